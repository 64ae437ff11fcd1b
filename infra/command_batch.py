"""The aggregates one group-commit batch decides on, and the command bus's own newest copies.

The bus keeps the aggregates it saved (and those its batches confirmed newest) in a map
only its thread touches, so that the next batch takes its private copy without the
repository cache's lock: eventsourcing's repository fast-forwards a cached aggregate in
place for any reader thread, so copying one out of it must hold that aggregate's lock.
Readers keep the repository's cache for themselves; a reader finding there an older
version than the store's reads the events since, as it does for other writers' events.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from infra.store.aggregate_copies import copy_aggregate
from infra.store.cold_reads import read_aggregates
from infra.store.event_store import HublineApplication
from infra.store.newest_versions import newest_versions

A = TypeVar("A", bound=Aggregate)


class NewestAggregates:
    """The newest state the bus knows of each aggregate it used lately, bounded.

    An entry may be outdated (another process wrote since): a batch that takes one
    confirms its version against the store before anything is saved or answered.
    """

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._aggregates: dict[UUID, Aggregate] = {}
        # Commands run without the bus thread (execute_now from several threads, tools)
        # may remember at once; a lookup is one dict read and needs no lock.
        self._lock = threading.Lock()

    def copy_of(self, aggregate_id: UUID) -> Aggregate | None:
        found = self._aggregates.get(aggregate_id)
        return None if found is None else copy_aggregate(found)

    def remember(self, aggregates: list[Aggregate]) -> None:
        """Keep these (no longer changed by anyone), least recently remembered out first."""
        kept = self._aggregates
        with self._lock:
            for aggregate in aggregates:
                kept.pop(aggregate.id, None)
                kept[aggregate.id] = aggregate
            while len(kept) > self._max_size:
                del kept[next(iter(kept))]


class Batch:
    """Aggregates loaded or created by the commands of one batch, in their newest state.

    A speculative batch takes aggregates from the bus's newest copies or the repository's
    cache (and takes an id found in neither for one with no events) without reading the
    store; before it is saved or answered, one read confirms that each was the newest
    (outdated). Otherwise each first load reads the store, as repository.get does.
    """

    def __init__(
        self,
        app: HublineApplication,
        newest: NewestAggregates | None,
        *,
        speculative: bool = False,
        fresh: Mapping[UUID, Aggregate | None] | None = None,
    ) -> None:
        self._app = app
        self._newest = newest
        self._speculative = speculative and newest is not None
        self.aggregates: dict[UUID, Aggregate | None] = dict(fresh or {})
        # Speculative loads: the version each was taken at (0: taken as not existing).
        self._assumed: dict[UUID, int] = {}

    def load(self, aggregate_id: UUID) -> Aggregate | None:
        if aggregate_id not in self.aggregates:
            if self._speculative:
                assert self._newest is not None
                found = self._newest.copy_of(aggregate_id)
                if found is None:
                    found = self._cached_copy(aggregate_id)
                # A second load (after a failed command) keeps the first version: the
                # commands decided before it read that one.
                self._assumed.setdefault(aggregate_id, 0 if found is None else found.version)
                self.aggregates[aggregate_id] = found
            else:
                self.aggregates[aggregate_id] = read_aggregate(self._app, aggregate_id)
        return self.aggregates[aggregate_id]

    def _cached_copy(self, aggregate_id: UUID) -> Aggregate | None:
        repository = self._app.repository
        if repository.cache is None:
            return None
        # Another thread's repository.get fast-forwards the cached instance in place
        # under this lock; copying under it never sees one half-applied.
        lock = repository._use_fastforward_lock(aggregate_id)
        try:
            with lock:
                try:
                    cached: object = repository.cache.get(aggregate_id)
                except KeyError:
                    return None
                return copy_aggregate(cached) if isinstance(cached, Aggregate) else None
        finally:
            repository._disuse_fastforward_lock(aggregate_id)

    def outdated(self) -> dict[UUID, Aggregate | None]:
        """Aggregates this batch took at an older version than the store's, read afresh."""
        newest = newest_versions(self._app, list(self._assumed))
        moved = [i for i, version in self._assumed.items() if newest.get(i, 0) != version]
        return read_aggregates(self._app, moved)

    def forget(self, aggregate_ids: list[UUID]) -> None:
        """Drop aggregates a failed command may have changed; the next load reads them anew."""
        for aggregate_id in aggregate_ids:
            self.aggregates.pop(aggregate_id, None)

    def changed(self) -> list[Aggregate]:
        return [a for a in self.aggregates.values() if a is not None and a._pending_events]

    def remember(self) -> None:
        """After the batch is saved: its aggregates are the newest, for the next batch."""
        if self._newest is not None:
            self._newest.remember([a for a in self.aggregates.values() if a is not None])


def read_aggregate(app: HublineApplication, aggregate_id: UUID) -> Aggregate | None:
    try:
        found: object = app.repository.get(aggregate_id)  # a deep copy of the cached one
    except AggregateNotFoundError:
        return None
    assert isinstance(found, Aggregate)
    return found


class CommandScope:
    """One command's view, merged into the batch only if the command succeeds.

    An aggregate no earlier command of the batch changed is lent as it is (no copy); if
    the command fails, the batch forgets it and loads it again when next asked. One that
    already holds the batch's pending events is copied, so a failure cannot undo them.
    """

    def __init__(self, batch: Batch) -> None:
        self._batch = batch
        self._touched: dict[UUID, Aggregate] = {}
        self._lent: list[UUID] = []

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id in self._touched:
            found: Aggregate | None = self._touched[aggregate_id]
        else:
            shared = self._batch.load(aggregate_id)
            if shared is None:
                return None
            if shared._pending_events:
                found = copy_aggregate(shared)
            else:
                found = shared
                self._lent.append(aggregate_id)
            self._touched[aggregate_id] = found
        if not isinstance(found, cls):
            return None
        return found

    def add(self, aggregate: Aggregate) -> None:
        self._touched[aggregate.id] = aggregate

    def merge(self) -> None:
        self._batch.aggregates.update(self._touched)

    def discard(self) -> None:
        self._batch.forget(self._lent)
