"""Feeds projections from the log, saving each position in the view's own transaction."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import NamedTuple

from infra.metrics import LOG_HEAD, PROJECTION_LAG, PROJECTION_POSITION
from infra.store.event_store import EventStore
from infra.store.view_database import SecondaryIndexes, ViewDatabase
from projections.records import LogRecord
from projections.view_store import Projection, ViewTransaction

log = logging.getLogger(__name__)

# Larger batches while catching up: one commit per batch for all views.
READ_BATCH = 5000
# A view this far behind is caught up without its secondary indexes, built once at the head:
# maintaining them per row costs more than the rows. From position 0, more than a batch.
DEFER_INDEXES_BEHIND = 50_000


class ProjectionRunner:
    def __init__(
        self, views: ViewDatabase, projections: Sequence[Projection], applies: bool = True
    ) -> None:
        """`applies`: this process keeps the views up to date (embedded serve, projection
        workers, the CLI), so it may drop a view of another version to rebuild it. A
        distributed serve node only reads them and leaves that to the workers."""
        self.views = views
        self.projections = {p.name: p for p in projections}
        for projection in projections:
            views.ensure(projection, may_rebuild=applies)
        self._applied = threading.Condition()
        # Views whose indexes this runner dropped and has not built again yet.
        self._unindexed: set[str] = set()

    def apply(self, records: Sequence[LogRecord], only: str | None = None) -> None:
        """Apply records to every projection exactly once: re-sent positions are skipped.

        One transaction for all of them (they share one database): each view's rows and its
        position commit together. Positions are read inside it, under the projections'
        locks, since another process (a worker, a rebuild) may have moved them."""
        if not records:
            return
        names = sorted(n for n in self.projections if only is None or n == only)
        with self.views.transaction() as tx:
            # Always in the same order, so that two runners cannot wait on each other.
            for name in names:
                self.views.lock(tx, name)
            stored = self.views.all_positions(tx)
            applied: dict[str, dict[int, int]] = {}
            # Views at the same positions (the usual case) skip the same records.
            unseen_by_start: dict[tuple[tuple[int, int], ...], _Unseen] = {}
            for name in names:
                positions = stored.get(name, {})
                start = tuple(sorted(positions.items()))
                unseen = unseen_by_start.get(start)
                if unseen is None:
                    unseen = unseen_by_start[start] = _unseen(records, positions)
                if unseen.records:
                    _apply_to(self.projections[name], unseen.records, tx)
                for partition, position in unseen.reached.items():
                    self.views.save_position(tx, name, partition, position)
                applied[name] = positions | unseen.reached
        for name, positions in applied.items():
            PROJECTION_POSITION.labels(projection=name).set(max(positions.values(), default=0))
        with self._applied:
            self._applied.notify_all()

    def position(self, name: str) -> int:
        positions = self.views.positions(name)
        return max(positions.values(), default=0)

    def applied_by_all(self) -> dict[int, int]:
        """Per partition, the position every projection has applied: a record at or below it
        would be skipped by each of them (a view reset since is filled from the store)."""
        stored = self.views.all_positions()
        partitions = {p for name in self.projections for p in stored.get(name, {})}
        return {
            p: min(stored.get(name, {}).get(p, 0) for name in self.projections) for p in partitions
        }

    def lowest_position(self, names: Sequence[str] = ()) -> int:
        return min((self.position(name) for name in names or self.projections), default=0)

    def catch_up(
        self,
        store: EventStore,
        only: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Apply everything the store holds beyond the projections' positions."""
        applied = 0
        head = store.head()
        LOG_HEAD.set(head)
        names = [only] if only else list(self.projections)
        stored = self.views.all_positions()
        reached = {name: max(stored.get(name, {}).values(), default=0) for name in names}
        start = min(reached.values(), default=0)
        for name, position in reached.items():
            indexed = isinstance(self.projections[name], SecondaryIndexes)
            if indexed and name not in self._unindexed and _defers_indexes(position, head):
                log.info(
                    "view %s is %s events behind: indexing it at the head", name, head - position
                )
                self.views.drop_indexes(self.projections[name])
                self._unindexed.add(name)
        with _young_batches() if head - start > READ_BATCH else nullcontext():
            while True:
                records = store.read_states(after=start, limit=READ_BATCH)
                if not records:
                    break
                self.apply(records, only=only)
                applied += len(records)
                start = records[-1].position
                # Every projection is at least here now (re-sent positions are skipped).
                reached = {name: max(position, start) for name, position in reached.items()}
                if progress is not None:
                    progress(start, max(head, start))
                if len(records) < READ_BATCH:
                    break
                # Freed before the next batch is read: one batch alive at a time.
                del records
        # At the head. A catch-up that failed before it leaves them to the next one that gets
        # here, or to the next start's `ensure`.
        for name in sorted(self._unindexed):
            self.views.build_indexes(self.projections[name])
            self._unindexed.discard(name)
        for name, position in reached.items():
            PROJECTION_LAG.labels(projection=name).set(max(0, head - position))
        return applied

    def rebuild(
        self, name: str, store: EventStore, progress: Callable[[int, int], None] | None = None
    ) -> int:
        projection = self.projections[name]
        self.views.reset(projection)
        return self.catch_up(store, only=name, progress=progress)

    def wait_until(self, position: int, timeout: float, names: Sequence[str] = ()) -> bool:
        """Block until the named projections have applied `position` (read-your-writes)."""
        deadline = time.monotonic() + timeout
        wanted = list(names) or list(self.projections)
        while True:
            if all(self.position(name) >= position for name in wanted):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._applied:
                # Applied in another process (distributed), no one notifies us: re-check soon.
                self._applied.wait(timeout=min(remaining, 0.05))


# While a catch-up is far behind: a batch's records (~5 objects each) stay alive until it is
# applied, so with the default first threshold (700) every batch's objects are traced and
# promoted by young collections, and they trigger a full collection every few batches: a
# fifth of a rebuild's CPU, though none of them is cyclic garbage. Above a batch's objects,
# they die before the first collection sees them.
_YOUNG_THRESHOLD = 10 * READ_BATCH
_young_lock = threading.Lock()
_young_depth = 0
_young_restore: tuple[int, int, int] = (0, 0, 0)


@contextmanager
def _young_batches() -> Iterator[None]:
    """Raises the collector's first threshold for the process while a catch-up runs (the
    one global it changes: other threads' cyclic garbage waits up to 50,000 allocations)."""
    global _young_depth, _young_restore
    with _young_lock:
        if _young_depth == 0:
            _young_restore = gc.get_threshold()
            if _young_restore[0] < _YOUNG_THRESHOLD:
                gc.set_threshold(_YOUNG_THRESHOLD, *_young_restore[1:])
        _young_depth += 1
    try:
        yield
    finally:
        with _young_lock:
            _young_depth -= 1
            if _young_depth == 0 and gc.get_threshold()[0] == _YOUNG_THRESHOLD:
                gc.set_threshold(*_young_restore)


class _Unseen(NamedTuple):
    records: list[LogRecord]
    # The last position applied per partition it moved.
    reached: dict[int, int]


def _unseen(records: Sequence[LogRecord], positions: dict[int, int]) -> _Unseen:
    """The records beyond `positions`, in order. A partition may carry a position twice (the
    relay re-sends after a crash): each is taken once, where it first comes."""
    fresh: list[LogRecord] = []
    reached = dict(positions)
    moved: dict[int, int] = {}
    for record in records:
        if record.position > reached.get(record.partition, 0):
            fresh.append(record)
            reached[record.partition] = moved[record.partition] = record.position
    return _Unseen(fresh, moved)


def _apply_to(projection: Projection, records: list[LogRecord], tx: ViewTransaction) -> None:
    apply_batch = getattr(projection, "apply_batch", None)
    if apply_batch is not None:
        apply_batch(records, tx)
        return
    for record in records:
        projection.apply(record, tx)


def _defers_indexes(position: int, head: int) -> bool:
    behind = head - position
    return behind > DEFER_INDEXES_BEHIND or (position == 0 and behind > READ_BATCH)


class EmbeddedProjectionThread:
    """Runs the projections in-process, woken by each commit rather than by polling."""

    def __init__(self, runner: ProjectionRunner, store: EventStore) -> None:
        self._runner = runner
        self._store = store
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="projections", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self, position: int = 0) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self._runner.catch_up(self._store)
            except Exception:
                log.exception("projection run failed; retrying")
                time.sleep(1)
            # Writes from other processes (the CLI) don't wake us; a slow timer catches them.
            self._wake.wait(timeout=1.0)
