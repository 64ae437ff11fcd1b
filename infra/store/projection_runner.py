"""Feeds projections from the log, saving each position in the view's own transaction."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from infra.metrics import LOG_HEAD, PROJECTION_LAG, PROJECTION_POSITION
from infra.store.event_store import EventStore
from infra.store.view_database import ViewDatabase
from projections.records import LogRecord
from projections.view_store import Projection

log = logging.getLogger(__name__)

READ_BATCH = 1000


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

    def apply(self, records: Sequence[LogRecord], only: str | None = None) -> None:
        """Apply records to every projection exactly once: re-sent positions are skipped."""
        if not records:
            return
        for projection in self.projections.values():
            if only is not None and projection.name != only:
                continue
            with self.views.transaction() as tx:
                self.views.lock(tx, projection.name)
                positions = self.views.positions(projection.name, tx)
                for record in records:
                    if record.position <= positions.get(record.partition, 0):
                        continue
                    projection.apply(record, tx)
                    positions[record.partition] = record.position
                for partition, position in positions.items():
                    self.views.save_position(tx, projection.name, partition, position)
            PROJECTION_POSITION.labels(projection=projection.name).set(max(positions.values()))
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
        start = self.position(only) if only else self.lowest_position()
        while True:
            records = store.read(after=start, limit=READ_BATCH)
            if not records:
                break
            self.apply(records, only=only)
            applied += len(records)
            start = records[-1].position
            if progress is not None:
                progress(start, max(head, start))
        for name in self.projections:
            PROJECTION_LAG.labels(projection=name).set(max(0, head - self.position(name)))
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
