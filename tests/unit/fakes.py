"""Test doubles shared by the unit tests of every domain module."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.commands import Command, Handler

A = TypeVar("A", bound=Aggregate)


class MemoryUnitOfWork:
    """The unit of work handlers see (domain.commands.UnitOfWork), kept in a dict.

    It is given a module's HANDLERS, as infra.command_bus.CommandBus is, so that tests
    dispatch commands the way the server does. Unlike the bus, it neither copies
    aggregates nor rolls back a refused command: a test sees exactly what a handler
    did before it raised, which is how "refused, nothing changed" gets pinned.
    Events stay pending on the aggregates; `collect_events()` reads them.
    """

    def __init__(self, handlers: Mapping[type[Command], Handler]) -> None:
        self.handlers = dict(handlers)
        self.aggregates: dict[UUID, Aggregate] = {}

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        found = self.aggregates.get(aggregate_id)
        # The bus answers None for an aggregate of another type too: ids never alias.
        return found if isinstance(found, cls) else None

    def add(self, aggregate: Aggregate) -> None:
        self.aggregates[aggregate.id] = aggregate

    def run(self, command: Command) -> Any:
        return self.handlers[type(command)](command, self)
