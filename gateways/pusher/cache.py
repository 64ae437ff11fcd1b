"""Cache channels: the last event of each `cache-` channel, replayed to a new subscriber.

Every node reads every event from the log, so each node keeps the same last events
without asking another: this memory is the cache. A node that starts has none until the
channel's next event (a subscriber meanwhile gets `pusher:cache_miss`). Events are kept
for an hour, as Pusher keeps them, within a bound on the bytes held.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from gateways.pusher import protocol

CACHE_PREFIXES = ("cache-", "private-cache-", "private-encrypted-cache-", "presence-cache-")
TTL_SECONDS = 3600.0
# Past this many bytes of cached frames, the oldest are forgotten first.
MAX_CACHED_BYTES = 64 * 1024 * 1024


def is_cache_channel(channel: str) -> bool:
    return channel.startswith(CACHE_PREFIXES)


@dataclass(frozen=True)
class CachedEvent:
    # The frame as subscribers received it, sent as is to a new one.
    frame: str
    # As the HTTP API's info=cache shows it.
    data: object
    expires: float

    @property
    def ttl_seconds(self) -> int:
        return max(0, round(self.expires - time.monotonic()))


class ChannelCache:
    def __init__(self, max_bytes: int = MAX_CACHED_BYTES) -> None:
        # Insertion order is age order: a new event moves its channel to the end.
        self._events: dict[tuple[str, str], CachedEvent] = {}
        self._bytes = 0
        self._max_bytes = max_bytes

    def remember(self, app_id: str, channel: str, frame: str, data: object) -> None:
        key = (app_id, channel)
        previous = self._events.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous.frame)
        self._events[key] = CachedEvent(frame, data, time.monotonic() + TTL_SECONDS)
        self._bytes += len(frame)
        while self._bytes > self._max_bytes and self._events:
            oldest = next(iter(self._events))
            self._bytes -= len(self._events.pop(oldest).frame)

    def last_event(self, app_id: str, channel: str) -> CachedEvent | None:
        cached = self._events.get((app_id, channel))
        if cached is None:
            return None
        if cached.expires <= time.monotonic():
            del self._events[(app_id, channel)]
            self._bytes -= len(cached.frame)
            return None
        return cached

    def replay(self, app_id: str, channel: str) -> str:
        """What a new subscriber of a cache channel is sent after subscription_succeeded."""
        cached = self.last_event(app_id, channel)
        if cached is not None:
            return cached.frame
        return protocol.event("pusher:cache_miss", "{}", channel)
