"""Runs commands against the store with group commit.

Commands that queue up while a transaction commits are decided one after another
against a shared in-memory view of their aggregates and then saved in one
transaction (one fsync for the lot). Each command is still decided against the
version of each aggregate it read; if another writer got there first, the batch
falls back to deciding each command alone, with retries, so a conflict never
loses an update.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.commands import Command, Handler
from domain.errors import ConcurrencyConflict
from infra.metrics import APPEND_LATENCY, BATCH_SIZE, COMMANDS, EVENTS
from infra.store.event_store import HublineApplication
from infra.store.snapshots import Snapshotter

log = logging.getLogger(__name__)
A = TypeVar("A", bound=Aggregate)

_ALONE_ATTEMPTS = 10
_REFUSED = object()  # a handler raised; its future already holds the error


@dataclass
class _Pending:
    command: Command
    future: Future[Any] = field(default_factory=Future)


class _Batch:
    """Aggregates loaded or created by the commands of one batch, in their newest state."""

    def __init__(self, app: HublineApplication) -> None:
        self._app = app
        self.aggregates: dict[UUID, Aggregate | None] = {}

    def load(self, aggregate_id: UUID) -> Aggregate | None:
        if aggregate_id not in self.aggregates:
            try:
                self.aggregates[aggregate_id] = self._app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self.aggregates[aggregate_id] = None
        return self.aggregates[aggregate_id]

    def changed(self) -> list[Aggregate]:
        return [a for a in self.aggregates.values() if a is not None and a._pending_events]


class _CommandScope:
    """One command's view: private copies, merged into the batch only if the command succeeds."""

    def __init__(self, batch: _Batch) -> None:
        self._batch = batch
        self._touched: dict[UUID, Aggregate] = {}

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id in self._touched:
            found: Aggregate | None = self._touched[aggregate_id]
        else:
            shared = self._batch.load(aggregate_id)
            if shared is None:
                return None
            found = copy.deepcopy(shared)
            self._touched[aggregate_id] = found
        if not isinstance(found, cls):
            return None
        return found

    def add(self, aggregate: Aggregate) -> None:
        self._touched[aggregate.id] = aggregate

    def merge(self) -> None:
        self._batch.aggregates.update(self._touched)


class CommandBus:
    def __init__(
        self,
        app: HublineApplication,
        handlers: Mapping[type[Command], Handler],
        max_batch_size: int = 500,
        on_commit: Callable[[int, list[str]], None] | None = None,
    ) -> None:
        self._app = app
        self._snapshots = Snapshotter(app)
        self._handlers = dict(handlers)
        self._max_batch_size = max_batch_size
        # Told the log position and the ids of the aggregates saved, before any of the
        # commands is answered, so that what it updates is current for the next request.
        self._on_commit = on_commit or (lambda position, saved: None)
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        # Guards _thread against enqueueing: nothing is queued once stop has begun.
        self._running = threading.Lock()

    # -- running -----------------------------------------------------------------

    def start(self) -> None:
        with self._running:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="command-bus", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._running:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._queue.put(None)
        thread.join(timeout=30)
        # Whatever was queued behind the stop is refused, not left waiting for ever.
        while True:
            try:
                pending = self._queue.get_nowait()
            except queue.Empty:
                return
            if pending is not None:
                self._fail(pending, RuntimeError("the server is stopping"))

    def _enqueue(self, pending: _Pending) -> bool:
        with self._running:
            if self._thread is None or threading.current_thread() is self._thread:
                return False
            self._queue.put(pending)
            return True

    async def execute(self, command: Command) -> Any:
        """Queue a command for the next group commit; returns once it is durably stored."""
        pending = _Pending(command)
        if not self._enqueue(pending):
            raise RuntimeError("the command bus is not running")
        return await asyncio.wrap_future(pending.future)

    def execute_now(self, command: Command) -> Any:
        """Run a command from synchronous code and wait until it is durably stored.

        While the bus runs (a server), the command joins the next group commit, so that
        worker threads (the OAuth endpoints) share transactions with everything else;
        otherwise (CLI, tools) it is decided and saved in the calling thread.
        """
        pending = _Pending(command)
        if not self._enqueue(pending):
            self._process([pending])
        return pending.future.result()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                self._process(batch)
            except Exception as exc:  # never let the bus thread die: fail the batch instead
                log.exception("command batch failed")
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
            if stop:
                return

    # -- deciding and saving -------------------------------------------------------

    def _process(self, batch: list[_Pending]) -> None:
        BATCH_SIZE.observe(len(batch))
        shared = _Batch(self._app)
        decided = [
            (pending, result)
            for pending in batch
            if (result := self._decide(pending, shared)) is not _REFUSED
        ]
        if not decided:
            return
        try:
            self._save(shared.changed())
        except IntegrityError:
            # Another process wrote one of these aggregates since we read it.
            for pending, _ in decided:
                self._decide_alone(pending)
            return
        for pending, result in decided:
            self._succeed(pending, result)

    def _decide(self, pending: _Pending, shared: _Batch) -> Any:
        """Run the handler on private copies; merge them into the batch only if it succeeds."""
        scope = _CommandScope(shared)
        try:
            result = self._handler_for(pending.command)(pending.command, scope)
        except Exception as exc:
            self._fail(pending, exc)
            return _REFUSED
        scope.merge()
        return result

    def _decide_alone(self, pending: _Pending) -> None:
        for attempt in range(_ALONE_ATTEMPTS):
            if attempt:
                # Jittered backoff, so that racing writers stop colliding in lockstep.
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
            shared = _Batch(self._app)
            result = self._decide(pending, shared)
            if result is _REFUSED:
                return
            try:
                self._save(shared.changed())
            except IntegrityError:
                continue
            self._succeed(pending, result)
            return
        self._fail(
            pending,
            ConcurrencyConflict("the resource was changed by another request; try again"),
        )

    def _save(self, aggregates: list[Aggregate]) -> None:
        if not aggregates:
            return
        started = time.perf_counter()
        recordings = self._app.save(*aggregates)
        APPEND_LATENCY.observe(time.perf_counter() - started)
        self._snapshots.after_save(aggregates, recordings)
        for recording in recordings:
            EVENTS.labels(type=type(recording.domain_event).__qualname__).inc()
        position = max((r.notification.id for r in recordings), default=0)
        if position:
            self._on_commit(position, [str(a.id) for a in aggregates])

    def _handler_for(self, command: Command) -> Handler:
        try:
            return self._handlers[type(command)]
        except KeyError:
            raise TypeError(f"no handler for {type(command).__name__}") from None

    @staticmethod
    def _succeed(pending: _Pending, result: Any) -> None:
        COMMANDS.labels(type=type(pending.command).__name__, outcome="ok").inc()
        if not pending.future.done():
            pending.future.set_result(result)

    @staticmethod
    def _fail(pending: _Pending, exc: BaseException) -> None:
        COMMANDS.labels(type=type(pending.command).__name__, outcome=type(exc).__name__).inc()
        if not pending.future.done():
            pending.future.set_exception(exc)
