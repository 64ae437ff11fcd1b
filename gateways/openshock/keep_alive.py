"""One timer for every hub session of a node: when each is to be pinged, and when it has been
silent too long.

A loop TimerHandle per hub costs about half a KiB, and a hub needs two (its next Ping, its
keep-alive deadline): for thousands of idle hubs, a bucket per tick of the clock is kept
instead, each holding the sessions due then. A session says when it is next due and what to do
then; a session whose deadline moved later since it was filed is filed again when its bucket
comes round, so keeping a hub alive costs no timer at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Protocol

log = logging.getLogger(__name__)


class Timed(Protocol):
    def due(self) -> float | None:
        """When it wants `on_time` next (the loop's clock), or None: not any more."""

    def on_time(self, now: float) -> None: ...


class KeepAliveClock:
    def __init__(self, resolution: float) -> None:
        self._resolution = resolution
        self._buckets: dict[int, set[Timed]] = {}
        self._filed: dict[Timed, int] = {}
        self._task: asyncio.Task[None] | None = None

    def file(self, timed: Timed) -> None:
        """Files `timed` under the tick of its `due` time (or forgets it, when None)."""
        self.forget(timed)
        due = timed.due()
        if due is None:
            return
        tick = math.ceil(due / self._resolution)
        self._buckets.setdefault(tick, set()).add(timed)
        self._filed[timed] = tick
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def forget(self, timed: Timed) -> None:
        tick = self._filed.pop(timed, None)
        if tick is None:
            return
        bucket = self._buckets.get(tick)
        if bucket is not None:
            bucket.discard(timed)
            if not bucket:
                del self._buckets[tick]

    def __len__(self) -> int:
        return len(self._filed)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._buckets:
                next_tick = min(self._buckets)
                await asyncio.sleep(max(0.0, next_tick * self._resolution - loop.time()))
                now = loop.time()
                for tick in sorted(t for t in self._buckets if t * self._resolution <= now):
                    for timed in self._buckets.pop(tick, set()):
                        self._filed.pop(timed, None)
                        self._fire(timed, now)
        finally:
            self._task = None

    def _fire(self, timed: Timed, now: float) -> None:
        try:
            due = timed.due()
            if due is not None and due <= now:
                timed.on_time(now)
        except Exception:
            log.exception("a hub session's timer failed")
        with contextlib.suppress(Exception):
            self.file(timed)
