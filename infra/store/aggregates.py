"""Reading one aggregate by id, outside a command: the read side's one loader."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from infra.store.event_store import EventStore

A = TypeVar("A", bound=Aggregate)


class AggregateLoader:
    """An aggregate of the expected class, or None when there is none under that id.

    Ids are derived from natural keys (e-mail, serial number), so an id can name an
    aggregate of another class; that is "not found" here, never an error.
    """

    def __init__(self, store: EventStore) -> None:
        self._repository = store.app.repository

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            found: object = self._repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, cls) else None
