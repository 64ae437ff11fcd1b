"""Feeds projections from the log, saving each position in the view's own transaction."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from infra.metrics import LOG_HEAD, PROJECTION_LAG, PROJECTION_POSITION
from infra.store.event_store import EventStore
from infra.store.view_database import SecondaryIndexes, ViewDatabase
from projections.records import LogRecord
from projections.view_store import Projection

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
            for name in names:
                projection = self.projections[name]
                positions = dict(stored.get(name, {}))
                moved: dict[int, int] = {}
                for record in records:
                    if record.position <= positions.get(record.partition, 0):
                        continue
                    projection.apply(record, tx)
                    positions[record.partition] = moved[record.partition] = record.position
                for partition, position in moved.items():
                    self.views.save_position(tx, name, partition, position)
                applied[name] = positions
        for name, positions in applied.items():
            PROJECTION_POSITION.labels(projection=name).set(max(positions.values(), default=0))
        with self._applied:
            self._applied.notify_all()

    def position(self, name: str) -> int:
        positions = self.views.positions(name)
        return max(positions.values(), default=0)

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
