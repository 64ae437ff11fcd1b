"""The base of every command and the unit of work that handlers decide against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.context import CommandContext

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True, kw_only=True)
class Command:
    context: CommandContext


class UnitOfWork(Protocol):
    """What a handler sees of the store: aggregates to load and new ones to keep.

    Handlers mutate aggregates through their event methods; the unit of work saves
    whatever events they recorded, together with other commands of the same batch.
    """

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None: ...

    def add(self, aggregate: Aggregate) -> None: ...


class Handler(Protocol):
    def __call__(self, command: Any, uow: UnitOfWork) -> Any: ...
