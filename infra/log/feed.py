"""The live tail of the log inside one process, handed to gateways in order.

Each gateway node reads every record: the embedded feed tails the store and is woken
by each commit; the Kafka feed (infra/log/kafka_feed.py) reads every partition without a
consumer group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from infra.store.event_store import EventStore
from projections.records import LogRecord

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[LogRecord]], None]


class LogFeed:
    def __init__(self) -> None:
        self._listeners: set[Listener] = set()
        self.stopping = False
        self._task: asyncio.Task[None] | None = None

    def add_listener(self, listener: Listener) -> None:
        self._listeners.add(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    def publish(self, records: Sequence[LogRecord]) -> None:
        for listener in list(self._listeners):
            try:
                listener(records)
            except Exception:
                log.exception("log listener failed")

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=type(self).__name__)

    async def stop(self) -> None:
        # Let the loop finish its current read rather than cancelling it: a read still
        # running in a worker thread would otherwise use the store after it is closed.
        self.stopping = True
        self.wake()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    def wake(self, position: int = 0) -> None:
        """Called from any thread after a commit."""

    async def _run(self) -> None:
        raise NotImplementedError


class EmbeddedLogFeed(LogFeed):
    """Publishes what this process commits as the bus hands it over, without reading it
    back; reads the store only for what that cannot cover.

    A commit's records come straight from the bus thread (`committed`) and are published
    on the event loop when they follow the last position published. Anything else (a gap:
    another writer such as the CLI, a sequence number PostgreSQL skipped, commits made
    while the reader was starting or reading) wakes the reader, which reads the store from
    the last position published; the one-second timer catches writers that wake nobody. So
    a position is never skipped nor published twice, and always in log order.
    """

    def __init__(self, store: EventStore, recheck_seconds: float = 1.0) -> None:
        super().__init__()
        self._store = store
        self._recheck_seconds = recheck_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken = asyncio.Event()
        self.position = 0
        # Only touched on the event loop: a store read is on its way (or the reader has not
        # started yet), so handed records wait for it rather than race it.
        self._reading = True

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.position = await asyncio.to_thread(self._store.head)
        await super().start()

    def wake(self, position: int = 0) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._woken.set)

    def committed(self, records: Sequence[LogRecord]) -> None:
        """Called from the bus thread after a commit with its records, in log order."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._take, records)

    def _take(self, records: Sequence[LogRecord]) -> None:
        if self.stopping:
            return
        if self._reading:
            self._woken.set()  # the reader reads on from where it gets to
            return
        fresh = [r for r in records if r.position > self.position]
        following = 0
        for record in fresh:
            if record.position != self.position + following + 1:
                break
            following += 1
        if following:
            self.position = fresh[following - 1].position
            self.publish(fresh[:following])
        if following < len(fresh):
            self._woken.set()  # a gap before the rest: the store has what lies between

    async def _run(self) -> None:
        while not self.stopping:
            self._woken.clear()
            self._reading = True
            try:
                records = await asyncio.to_thread(self._store.read, self.position, 1000)
            except Exception:
                log.exception("reading the log failed; retrying")
                records = []
                await asyncio.sleep(1)
            if records:
                self.position = records[-1].position
                self.publish(records)
                continue
            self._reading = False
            # Commits in this process are handed over (or wake us) at once; other writers
            # (the CLI) are picked up by the timeout.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._recheck_seconds):
                    await self._woken.wait()
