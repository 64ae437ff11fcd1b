"""Runs commands against the store with group commit.

Commands that queue up while a transaction commits are decided one after another
against a shared in-memory view of their aggregates and then saved in one
transaction (one fsync for the lot). The batch takes its aggregates from the
repository's cache and confirms with one read that none has moved on (otherwise it
decides again on what the store holds), so a decision is never made on a stale state.
Each command is still decided against the version of each aggregate it read; if
another writer got there first, the append fails and the batch falls back to
deciding each command alone, with retries, so a conflict never loses an update.
Answers go out after the commit, one callback per caller's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, InvalidStateError
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
from infra.store.newest_versions import newest_versions
from infra.store.snapshots import Snapshotter

log = logging.getLogger(__name__)
A = TypeVar("A", bound=Aggregate)

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


class _Batch:
    """Aggregates loaded or created by the commands of one batch, in their newest state.

    A speculative batch takes aggregates from the repository's cache (and takes an id
    that is not cached for one with no events) without reading the store; before it is
    saved or answered, one read confirms that each was the newest (outdated). Otherwise
    each first load reads the store, as repository.get does.
    """

    def __init__(
        self,
        app: HublineApplication,
        *,
        speculative: bool = False,
        fresh: Mapping[UUID, Aggregate | None] | None = None,
    ) -> None:
        self._app = app
        self._speculative = speculative and app.repository.cache is not None
        self.aggregates: dict[UUID, Aggregate | None] = dict(fresh or {})
        # Speculative loads: the version each was taken at (0: taken as not existing).
        self._assumed: dict[UUID, int] = {}

    def load(self, aggregate_id: UUID) -> Aggregate | None:
        if aggregate_id not in self.aggregates:
            if self._speculative:
                found = self._cached_copy(aggregate_id)
                # A second load (after a failed command) keeps the first version: the
                # commands decided before it read that one.
                self._assumed.setdefault(aggregate_id, 0 if found is None else found.version)
                self.aggregates[aggregate_id] = found
            else:
                self.aggregates[aggregate_id] = _read(self._app, aggregate_id)
        return self.aggregates[aggregate_id]

    def _cached_copy(self, aggregate_id: UUID) -> Aggregate | None:
        repository = self._app.repository
        assert repository.cache is not None
        # Another thread's repository.get fast-forwards the cached instance in place
        # under this lock; copying under it never sees one half-applied.
        lock = repository._use_fastforward_lock(aggregate_id)
        try:
            with lock:
                try:
                    cached: object = repository.cache.get(aggregate_id)
                except KeyError:
                    return None
                return copy.deepcopy(cached) if isinstance(cached, Aggregate) else None
        finally:
            repository._disuse_fastforward_lock(aggregate_id)

    def outdated(self) -> dict[UUID, Aggregate | None]:
        """Aggregates this batch took at an older version than the store's, read afresh."""
        newest = newest_versions(self._app, list(self._assumed))
        return {
            aggregate_id: _read(self._app, aggregate_id)
            for aggregate_id, version in self._assumed.items()
            if newest.get(aggregate_id, 0) != version
        }

    def forget(self, aggregate_ids: list[UUID]) -> None:
        """Drop aggregates a failed command may have changed; the next load reads them anew."""
        for aggregate_id in aggregate_ids:
            self.aggregates.pop(aggregate_id, None)

    def changed(self) -> list[Aggregate]:
        return [a for a in self.aggregates.values() if a is not None and a._pending_events]

    def remember(self, saved: list[Aggregate]) -> None:
        """Cache the saved aggregates, so that the next batch starts from them."""
        cache = self._app.repository.cache
        if cache is not None:
            for aggregate in saved:
                cache.put(aggregate.id, aggregate)


def _read(app: HublineApplication, aggregate_id: UUID) -> Aggregate | None:
    try:
        found: object = app.repository.get(aggregate_id)  # a deep copy of the cached one
    except AggregateNotFoundError:
        return None
    assert isinstance(found, Aggregate)
    return found


class _CommandScope:
    """One command's view, merged into the batch only if the command succeeds.

    An aggregate no earlier command of the batch changed is lent as it is (no copy); if
    the command fails, the batch forgets it and loads it again when next asked. One that
    already holds the batch's pending events is copied, so a failure cannot undo them.
    """

    def __init__(self, batch: _Batch) -> None:
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
                found = copy.deepcopy(shared)
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
        shared = _Batch(self._app, speculative=True)
        decided = self._decide_all(batch, shared)
        outdated = shared.outdated()
        if outdated:
            # Decided on something older than the store: decide again on what it holds now.
            for pending in batch:
                pending.outcome = None
            shared = _Batch(self._app, fresh=outdated)
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
        shared.remember(changed)
        for pending, result in decided:
            self._succeed(pending, result)

    def _decide_all(self, batch: list[_Pending], shared: _Batch) -> list[tuple[_Pending, Any]]:
        return [
            (pending, result)
            for pending in batch
            if (result := self._decide(pending, shared)) is not _REFUSED
        ]

    def _decide(self, pending: _Pending, shared: _Batch) -> Any:
        """Run the handler in its own scope; merge that into the batch only if it succeeds."""
        scope = _CommandScope(shared)
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
            shared = _Batch(self._app)
            result = self._decide(pending, shared)
            if result is _REFUSED:
                return
            changed = shared.changed()
            try:
                self._save(changed)
            except IntegrityError:
                continue
            shared.remember(changed)
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
        for event_type, count in Counter(
            type(r.domain_event).__qualname__ for r in recordings
        ).items():
            EVENTS.labels(type=event_type).inc(count)
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
        if pending.outcome is None:
            # A saved aggregate now lives in the repository's cache (_Batch.remember),
            # where a load fast-forwards it in place: the caller gets its own copy.
            if isinstance(result, Aggregate):
                result = copy.deepcopy(result)
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
