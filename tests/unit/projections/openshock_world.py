"""The OpenShock domain world (tests/unit/domain/openshock/world.py) with a log: each command
run through the domain handlers appends its events as the records the views read, and the
views live in an in-memory SQLite database beside the users view they look names up in."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.commands import Command
from domain.identity.user import User
from domain.openshock.commands import CreateHub, RegisterShocker
from infra.store.event_store import record_from_event
from projections.openshock_views import openshock_views
from projections.records import LogRecord
from projections.user_view import UserView
from projections.view_store import Projection, ViewTransaction
from tests.unit.domain.openshock.world import ALICE, BOB, NOW, context, new_world, pending, session
from tests.unit.projections.test_batched_views import SqliteTransaction


@runtime_checkable
class BatchedProjection(Protocol):
    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None: ...


CAROL = UUID("00000000-0000-0000-0000-0000000ca401")


class LoggedWorld:
    def __init__(self) -> None:
        self.uow = new_world()
        self.records: list[LogRecord] = []
        self.views: list[Projection] = [UserView(), *openshock_views()]
        self.connection = sqlite3.connect(":memory:")
        for view in self.views:
            for statement in view.create_statements():
                self.connection.execute(statement)
        self.tx = SqliteTransaction(self.connection)
        self._applied = 0

    def run(self, command: Command) -> Any:
        result = self.uow.run(command)
        self.log(pending(self.uow))
        return result

    def log(self, events: list[Any]) -> None:
        for event in events:
            position = len(self.records) + 1
            record = record_from_event(position, event, get_topic(type(event)))
            # One second apart, in log order: sorting by time is then deterministic.
            self.records.append(record._replace(timestamp=NOW + timedelta(seconds=position)))

    def add_user(self, subject: UUID, name: str) -> None:
        user = User(
            email=f"{name.lower()}@example.com", name=name, password_hash="x", roles=[], meta={}
        )
        for event in user.collect_events():
            position = len(self.records) + 1
            record = record_from_event(position, event, get_topic(type(event)))
            self.records.append(record._replace(aggregate_id=str(subject)))

    def apply(self, one_at_a_time: bool = False) -> None:
        """Applies what was logged since the last call, to every view."""
        fresh = self.records[self._applied :]
        self._applied = len(self.records)
        for view in self.views:
            if one_at_a_time:
                for record in fresh:
                    view.apply(record, self.tx)
            else:
                # Every OpenShock view batches; the runner would fall back to `apply`.
                assert isinstance(view, BatchedProjection)
                view.apply_batch(fresh, self.tx)

    def replayed(self, one_at_a_time: bool) -> LoggedWorld:
        """A fresh database given this world's whole log, in one batch or record by record."""
        other = LoggedWorld()
        other.records = list(self.records)
        other.apply(one_at_a_time)
        return other

    def table(self, name: str) -> list[tuple[Any, ...]]:
        return sorted(self.connection.execute(f"SELECT * FROM {name}").fetchall())


def people() -> LoggedWorld:
    world = LoggedWorld()
    world.add_user(ALICE, "Alice")
    world.add_user(BOB, "Bob")
    world.add_user(CAROL, "Carol")
    return world


def add_hub(world: LoggedWorld, name: str, user: UUID = ALICE) -> UUID:
    hub_id: UUID = world.run(
        CreateHub(
            caller=session(user),
            name=name,
            token_hash=f"h-{name}",
            sealed_token="sealed",
            context=context(user),
        )
    )
    return hub_id


def add_shocker(
    world: LoggedWorld, hub_id: UUID, name: str, rf_id: int = 1, user: UUID = ALICE
) -> UUID:
    shocker_id: UUID = world.run(
        RegisterShocker(
            caller=session(user),
            hub_id=hub_id,
            name=name,
            rf_id=rf_id,
            model="PetTrainer",
            context=context(user),
        )
    )
    return shocker_id
