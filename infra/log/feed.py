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
    def __init__(self, store: EventStore) -> None:
        super().__init__()
        self._store = store
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken = asyncio.Event()
        self.position = 0

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.position = await asyncio.to_thread(self._store.head)
        await super().start()

    def wake(self, position: int = 0) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._woken.set)

    async def _run(self) -> None:
        while not self.stopping:
            self._woken.clear()
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
            # Commits in this process wake us at once; other writers (the CLI) are
            # picked up by the timeout.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._woken.wait()
