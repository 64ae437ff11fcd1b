"""A small OpenShock world for the domain tests: two users, one hub with one shocker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.domain import CanMutateAggregate

from domain.context import CommandContext
from domain.openshock.commands import CreateHub, RegisterShocker
from domain.openshock.handlers import HANDLERS
from domain.openshock.values import Caller, Permission, ShockerControl, TokenGrant
from tests.unit.fakes import MemoryUnitOfWork

ALICE = UUID("00000000-0000-0000-0000-00000000a11c")
BOB = UUID("00000000-0000-0000-0000-000000000b0b")
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def context(user: UUID = ALICE) -> CommandContext:
    return CommandContext(
        actor_id=str(user), actor_kind="user", credential_id="session-1", source_address="10.0.0.9"
    )


def session(user: UUID = ALICE) -> Caller:
    return Caller(user_id=user)


def token(
    *permissions: Permission, control: ShockerControl | None = None, user: UUID = ALICE
) -> Caller:
    grant = TokenGrant(
        token_id="token-1",
        permissions=frozenset(p.value for p in permissions),
        control=control or ShockerControl(),
    )
    return Caller(user_id=user, token=grant)


def new_world() -> MemoryUnitOfWork:
    return MemoryUnitOfWork(HANDLERS)


def add_hub(uow: MemoryUnitOfWork, user: UUID = ALICE, hashed: str = "hash-1") -> UUID:
    hub_id: UUID = uow.run(
        CreateHub(
            caller=session(user),
            name="Hub",
            token_hash=hashed,
            sealed_token="sealed",
            context=context(user),
        )
    )
    return hub_id


def add_shocker(uow: MemoryUnitOfWork, hub_id: UUID, user: UUID = ALICE, rf_id: int = 1234) -> UUID:
    shocker_id: UUID = uow.run(
        RegisterShocker(
            caller=session(user),
            hub_id=hub_id,
            name="Collar",
            rf_id=rf_id,
            model="CaiXianlin",
            context=context(user),
        )
    )
    return shocker_id


def pending(uow: MemoryUnitOfWork) -> list[CanMutateAggregate[UUID]]:
    """Every event recorded and not yet collected, across the world's aggregates."""
    events: list[CanMutateAggregate[UUID]] = []
    for aggregate in uow.aggregates.values():
        events.extend(aggregate.collect_events())
    return events


def kinds(events: Sequence[object]) -> list[str]:
    return [type(e).__qualname__ for e in events]
