"""Test doubles shared by the unit tests of every domain module."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.commands import Command

A = TypeVar("A", bound=Aggregate)


class MemoryUnitOfWork:
    """The unit of work handlers see (domain.commands.UnitOfWork), kept in a dict.

    It is given a module's HANDLERS, as infra.command_bus.CommandBus is, so that tests
    dispatch commands the way the server does. Unlike the bus, it neither copies
    aggregates nor rolls back a refused command: a test sees exactly what a handler
    did before it raised, which is how "refused, nothing changed" gets pinned.
    Events stay pending on the aggregates; `collect_events()` reads them.
    """

    # Mapping[type, Any] rather than the bus's Mapping[type[Command], Handler]: the domain's
    # HANDLERS dicts are unannotated, so a type checker sees them as dict[type, function].
    def __init__(self, handlers: Mapping[type, Any]) -> None:
        self.handlers: dict[type, Any] = dict(handlers)
        self.aggregates: dict[UUID, Aggregate] = {}

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        found = self.aggregates.get(aggregate_id)
        # As in the bus: an id held by another kind of aggregate is as good as unknown.
        return found if isinstance(found, cls) else None

    def add(self, aggregate: Aggregate) -> None:
        self.aggregates[aggregate.id] = aggregate

    def run(self, command: Command) -> Any:
        return self.handlers[type(command)](command, self)
