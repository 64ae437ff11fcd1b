"""Runs commands against the store with group commit.

Commands that queue up while a transaction commits are decided one after another
against a shared in-memory view of their aggregates and then saved in one
transaction (one fsync for the lot). The batch takes its aggregates from the bus's
own newest copies or the repository's cache and confirms with one read that none has
moved on (otherwise it decides again on what the store holds), so a decision is never
made on a stale state (infra/command_batch.py).
Each command is still decided against the version of each aggregate it read; if
another writer got there first, the append fails and the batch falls back to
deciding each command alone, with retries, so a conflict never loses an update.
The events are appended in eventsourcing's stored format by our own append path
(infra/store/event_appender.py). Answers go out after the commit, one callback per
caller's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.commands import Command, Handler
from domain.errors import ConcurrencyConflict
from infra.command_batch import Batch, CommandScope, NewestAggregates
from infra.metrics import APPEND_LATENCY, BATCH_SIZE, COMMANDS, EVENTS
from infra.store.aggregate_copies import copy_aggregate
from infra.store.event_appender import EventAppender
from infra.store.event_store import HublineApplication
from infra.store.snapshots import Snapshotter
from projections.records import LogRecord

log = logging.getLogger(__name__)

_ALONE_ATTEMPTS = 10
_REFUSED = object()  # a handler raised; its future already holds the error


@dataclass
class _Pending:
    """A queued command and where its answer goes.

    A command from async code carries its caller's loop and an asyncio future, so that a
    batch is answered with one callback per loop; from sync code, a concurrent Future.
    The outcome is kept until the whole batch is done, then delivered (see _answer).
    """

    command: Command
    loop: asyncio.AbstractEventLoop | None = None
    future: Future[Any] | asyncio.Future[Any] = field(default_factory=Future)
    outcome: tuple[bool, Any] | None = None


class CommandBus:
    def __init__(
        self,
        app: HublineApplication,
        handlers: Mapping[type[Command], Handler],
        max_batch_size: int = 500,
        on_commit: Callable[[int, list[str], list[LogRecord]], None] | None = None,
    ) -> None:
        self._app = app
        self._appender = EventAppender(app)
        # Without an aggregate cache, every batch reads its aggregates from the store.
        cache = app.repository.cache
        self._newest = (
            None if cache is None else NewestAggregates(getattr(cache, "maxsize", None) or 10_000)
        )
        self._snapshots = Snapshotter(app)
        self._handlers = dict(handlers)
        self._max_batch_size = max_batch_size
        # Told the log position, the ids of the aggregates saved and the records of the
        # events stored (in log order) before any of the commands is answered, so that what
        # it updates is current for the next request. It runs on the bus thread: keep it short.
        self._on_commit = on_commit or (lambda position, saved, records: None)
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
                self._answer([pending])

    def _enqueue(self, pending: _Pending) -> bool:
        with self._running:
            if self._thread is None or threading.current_thread() is self._thread:
                return False
            self._queue.put(pending)
            return True

    async def execute(self, command: Command) -> Any:
        """Queue a command for the next group commit; returns once it is durably stored."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        if not self._enqueue(_Pending(command, loop, answer)):
            raise RuntimeError("the command bus is not running")
        return await answer

    def execute_now(self, command: Command) -> Any:
        """Run a command from synchronous code and wait until it is durably stored.

        While the bus runs (a server), the command joins the next group commit, so that
        worker threads (the OAuth endpoints) share transactions with everything else;
        otherwise (CLI, tools) it is decided and saved in the calling thread.
        """
        pending = _Pending(command)
        if not self._enqueue(pending):
            try:
                self._process([pending])
            finally:
                self._answer([pending])
        future = pending.future
        assert isinstance(future, Future)
        return future.result()

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
                    self._fail(pending, exc)
            self._answer(batch)
            if stop:
                return

    # -- deciding and saving -------------------------------------------------------

    def _process(self, batch: list[_Pending]) -> None:
        BATCH_SIZE.observe(len(batch))
        shared = Batch(self._app, self._newest, speculative=True)
        decided = self._decide_all(batch, shared)
        outdated = shared.outdated()
        if outdated:
            # Decided on something older than the store: decide again on what it holds now.
            for pending in batch:
                pending.outcome = None
            shared = Batch(self._app, self._newest, fresh=outdated)
            decided = self._decide_all(batch, shared)
        if not decided:
            return
        changed = shared.changed()
        try:
            self._save(changed)
        except IntegrityError:
            # Another process wrote one of these aggregates since we read it.
            for pending, _ in decided:
                self._decide_alone(pending)
            return
        shared.remember()
        for pending, result in decided:
            self._succeed(pending, result)

    def _decide_all(self, batch: list[_Pending], shared: Batch) -> list[tuple[_Pending, Any]]:
        return [
            (pending, result)
            for pending in batch
            if (result := self._decide(pending, shared)) is not _REFUSED
        ]

    def _decide(self, pending: _Pending, shared: Batch) -> Any:
        """Run the handler in its own scope; merge that into the batch only if it succeeds."""
        scope = CommandScope(shared)
        try:
            result = self._handler_for(pending.command)(pending.command, scope)
        except Exception as exc:
            scope.discard()
            self._fail(pending, exc)
            return _REFUSED
        scope.merge()
        return result

    def _decide_alone(self, pending: _Pending) -> None:
        for attempt in range(_ALONE_ATTEMPTS):
            if attempt:
                # Jittered backoff, so that racing writers stop colliding in lockstep.
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
            shared = Batch(self._app, self._newest)
            result = self._decide(pending, shared)
            if result is _REFUSED:
                return
            changed = shared.changed()
            try:
                self._save(changed)
            except IntegrityError:
                continue
            shared.remember()
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
        records = self._appender.append(aggregates)
        APPEND_LATENCY.observe(time.perf_counter() - started)
        if not records:
            return
        self._snapshots.after_save(aggregates, records)
        for event_type, count in Counter(r.type for r in records).items():
            EVENTS.labels(type=event_type).inc(count)
        # Each saved aggregate has events, in the order of `aggregates`.
        saved = list(dict.fromkeys(r.aggregate_id for r in records))
        self._on_commit(records[-1].position, saved, records)

    def _handler_for(self, command: Command) -> Handler:
        try:
            return self._handlers[type(command)]
        except KeyError:
            raise TypeError(f"no handler for {type(command).__name__}") from None

    @staticmethod
    def _succeed(pending: _Pending, result: Any) -> None:
        if pending.outcome is None:
            # A saved aggregate is kept as the bus's newest copy (Batch.remember), which
            # the next batch starts from: the caller gets its own copy.
            if isinstance(result, Aggregate):
                result = copy_aggregate(result)
            pending.outcome = (True, result)

    @staticmethod
    def _fail(pending: _Pending, exc: BaseException) -> None:
        if pending.outcome is None:
            pending.outcome = (False, exc)

    # -- answering -------------------------------------------------------------------

    @staticmethod
    def _answer(batch: list[_Pending]) -> None:
        """Deliver a finished batch: one callback per caller loop, metrics counted once.

        Runs only after the batch's transaction committed and on_commit ran, so an
        answer is never sent for a command that is not durably stored.
        """
        outcomes: Counter[tuple[str, str]] = Counter()
        by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        for pending in batch:
            if pending.outcome is None:
                pending.outcome = (False, RuntimeError("the command was not decided"))
            ok, value = pending.outcome
            outcomes[type(pending.command).__name__, "ok" if ok else type(value).__name__] += 1
            if pending.loop is None:
                _settle(pending)
            else:
                by_loop.setdefault(pending.loop, []).append(pending)
        for (command_type, outcome), count in outcomes.items():
            COMMANDS.labels(type=command_type, outcome=outcome).inc(count)
        for loop, answered in by_loop.items():
            # A closed loop raises RuntimeError: nobody is waiting for these answers.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle_all, answered)


def _settle_all(batch: list[_Pending]) -> None:
    for pending in batch:
        _settle(pending)


def _settle(pending: _Pending) -> None:
    # A caller that gave up (cancelled) has nothing to receive.
    if pending.future.done() or pending.outcome is None:
        return
    ok, value = pending.outcome
    # A concurrent Future can still be cancelled by its caller between the check and here.
    with contextlib.suppress(InvalidStateError):
        if ok:
            pending.future.set_result(value)
        else:
            pending.future.set_exception(value)
