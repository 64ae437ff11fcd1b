"""Cache channels: the last event of each `cache-` channel, replayed to a new subscriber.

Every node reads every event from the log and keeps the last one of each cache channel in
memory, so a node answers from memory without asking another. What a node did not see
(it started after the event, was restarted, or forgot it past the byte bound) the log
still holds: the `pusher_cache` view (projections/pusher_cache_view.py) is read once, in a
worker thread, and what it says is kept as if the feed had brought it. Events are kept
for an hour from when they were written to the log, as Pusher keeps them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from domain.errors import ViewsBehind
from gateways.pusher import protocol
from projections.pusher_cache_view import (
    CACHE_TTL_SECONDS,
    CachedChannelEvent,
    is_cache_channel,
)

__all__ = ["CachedEvent", "ChannelCache", "StoredCacheEvents", "cache_miss", "is_cache_channel"]

log = logging.getLogger(__name__)

TTL_SECONDS = CACHE_TTL_SECONDS
# Past this many bytes of cached frames, the oldest are forgotten first.
MAX_CACHED_BYTES = 64 * 1024 * 1024
# Channels the store was found to hold nothing for; past this many, the oldest are
# forgotten (and read again when asked).
MAX_KNOWN_MISSES = 10_000
# Store reads at once: a flood of subscriptions to channels nobody sent to cannot take
# every worker thread.
_STORE_READS = 4

Key = tuple[str, str]


class StoredCacheEvents(Protocol):
    def last_event(self, app_id: str, channel: str) -> CachedChannelEvent | None:
        """The channel's last event in the log, however old. Blocks: run in a thread.

        Raises ViewsBehind when the store may not hold everything this node's feed did
        not bring (a miss is then not kept)."""
        ...


def cache_miss(channel: str) -> str:
    return protocol.event("pusher:cache_miss", "{}", channel)


@dataclass(frozen=True)
class CachedEvent:
    # The frame as subscribers received it, sent as is to a new one.
    frame: str
    # As the HTTP API's info=cache shows it.
    data: object
    # Seconds since the epoch, on the cache's clock.
    expires: float
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    @property
    def ttl_seconds(self) -> int:
        return max(0, round(self.expires - self.clock()))


Waiter = Callable[[CachedEvent | None], None]


class ChannelCache:
    """Used on the event loop alone (the store is read in worker threads)."""

    def __init__(
        self,
        max_bytes: int = MAX_CACHED_BYTES,
        stored: StoredCacheEvents | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Insertion order is age order: a new event moves its channel to the end.
        self._events: dict[Key, CachedEvent] = {}
        self._bytes = 0
        self._max_bytes = max_bytes
        # None: this memory is all there is (no store to ask).
        self._stored = stored
        self._clock = clock
        # Channels the store holds nothing (young enough) for; the feed brings what follows.
        self._misses: dict[Key, None] = {}
        # Store reads in flight, and who waits on each (by socket id: asked once each).
        self._reads: dict[Key, asyncio.Task[None]] = {}
        self._waiters: dict[Key, dict[str, Waiter]] = {}
        self._read_slots = asyncio.Semaphore(_STORE_READS)

    def remember(
        self,
        app_id: str,
        channel: str,
        frame: str,
        data: object,
        written_at: float | None = None,
    ) -> None:
        """Keeps the channel's last event; `written_at` (the log's time) defaults to now."""
        key = (app_id, channel)
        self._misses.pop(key, None)
        previous = self._events.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous.frame)
        start = self._clock() if written_at is None else written_at
        self._events[key] = CachedEvent(frame, data, start + TTL_SECONDS, self._clock)
        self._bytes += len(frame)
        while self._bytes > self._max_bytes and self._events:
            oldest = next(iter(self._events))
            self._bytes -= len(self._events.pop(oldest).frame)

    def last_event(self, app_id: str, channel: str) -> CachedEvent | None:
        """What memory holds for the channel (the store is not asked)."""
        cached = self._events.get((app_id, channel))
        if cached is None:
            return None
        if cached.expires <= self._clock():
            del self._events[(app_id, channel)]
            self._bytes -= len(cached.frame)
            return None
        return cached

    def answer(self, app_id: str, channel: str, waiter_id: str, then: Waiter) -> None:
        """Calls `then` with the channel's last event (None: nothing to replay), at once
        when memory knows, else once the store was read. A waiter (a socket id) is called
        once however often it asks meanwhile, and not at all if the feed brings an event
        of the channel during the read: subscribed, it received that one."""
        key = (app_id, channel)
        found = self.last_event(app_id, channel)
        if found is not None or self._stored is None or key in self._misses:
            then(found)
            return
        self._waiters.setdefault(key, {})[waiter_id] = then
        self._read(key)

    async def look_up(self, app_id: str, channel: str) -> CachedEvent | None:
        """The channel's last event, from memory or else from the store."""
        key = (app_id, channel)
        found = self.last_event(app_id, channel)
        if found is not None or self._stored is None or key in self._misses:
            return found
        # Shielded: a caller that gives up does not cancel the others' read.
        await asyncio.shield(self._read(key))
        return self.last_event(app_id, channel)

    def _read(self, key: Key) -> asyncio.Task[None]:
        read = self._reads.get(key)
        if read is None:
            read = self._reads[key] = asyncio.get_running_loop().create_task(self._read_store(key))
        return read

    async def _read_store(self, key: Key) -> None:
        stored = self._stored
        assert stored is not None
        found: CachedChannelEvent | None = None
        complete = False
        try:
            async with self._read_slots:
                found = await asyncio.to_thread(stored.last_event, *key)
            complete = True
        except ViewsBehind as behind:
            log.info("cache channel %s read before the view caught up: %s", key[1], behind)
        except Exception:
            log.exception("could not read the last event of cache channel %s", key[1])
        finally:
            del self._reads[key]
        waiters = self._waiters.pop(key, {})
        if key in self._events:
            # The feed brought an event while the store was read: newer, and already
            # delivered to every waiter.
            return
        if found is not None and found.written_at + TTL_SECONDS > self._clock():
            extra = {"user_id": found.user_id} if found.user_id is not None else {}
            frame = protocol.event(found.name, found.data, found.channel, **extra)
            self.remember(*key, frame, found.data, found.written_at)
        elif complete:
            self._misses[key] = None
            if len(self._misses) > MAX_KNOWN_MISSES:
                del self._misses[next(iter(self._misses))]
        answer = self.last_event(*key)
        for then in waiters.values():
            try:
                then(answer)
            except Exception:
                log.exception("could not replay cache channel %s", key[1])
