"""Sliding-window request limits, counted as ASP.NET's SlidingWindowRateLimiter counts.

The window is cut into segments; a request is admitted while the requests of the last
`segments` segments (the current one included) are fewer than the limit, and each segment's
count leaves the window whole when the window slides past it. The embedded deployment counts
in memory; the distributed one in Redis (a hash per key, a field per segment), so that every
node counts one budget. The answer is the seconds to wait: 0 admits.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

from infra.limits.redis_outage import RedisOutage


class SlidingWindowLimiter(Protocol):
    async def acquire(self, key: str) -> float:
        """Counts one request; 0 when admitted, else the seconds until one would be."""
        ...


class MemorySlidingWindow:
    def __init__(
        self, limit: int, window_seconds: float, segments: int, max_keys: int = 200_000
    ) -> None:
        self._limit = limit
        self._segment = window_seconds / segments
        self._segments = segments
        self._max_keys = max_keys
        # key -> {segment index: requests}
        self._counts: dict[str, dict[int, int]] = {}

    async def acquire(self, key: str) -> float:
        # No await inside: on one event loop the read-modify-write below is atomic.
        return self.acquire_at(key, time.time())

    def acquire_at(self, key: str, now: float) -> float:
        current = math.floor(now / self._segment)
        oldest = current - self._segments + 1
        if len(self._counts) > self._max_keys:
            self._forget_before(oldest)
        counts = self._counts.setdefault(key, {})
        for index in [i for i in counts if i < oldest]:
            del counts[index]
        if sum(counts.values()) >= self._limit:
            return _wait(min(counts), self._segments, self._segment, now)
        counts[current] = counts.get(current, 0) + 1
        return 0.0

    def _forget_before(self, oldest: int) -> None:
        for key in [k for k, c in self._counts.items() if not c or max(c) < oldest]:
            del self._counts[key]


def _wait(earliest: int, segments: int, segment: float, now: float) -> float:
    """Until the earliest counted segment leaves the window."""
    return max(0.001, (earliest + segments) * segment - now)


# KEYS[1]: the key's hash (field: segment index, value: requests).
# ARGV: now ms, segment ms, segments, limit. Returns the wait in ms (0: admitted).
_ACQUIRE = """
local now, seg = tonumber(ARGV[1]), tonumber(ARGV[2])
local n, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local current = math.floor(now / seg)
local oldest = current - n + 1
local fields = redis.call('HGETALL', KEYS[1])
local total, earliest = 0, nil
for i = 1, #fields, 2 do
  local index = tonumber(fields[i])
  if index < oldest then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    total = total + tonumber(fields[i + 1])
    if earliest == nil or index < earliest then earliest = index end
  end
end
if total >= limit then
  return math.max(1, (earliest + n) * seg - now)
end
redis.call('HINCRBY', KEYS[1], current, 1)
redis.call('PEXPIRE', KEYS[1], n * seg)
return 0
"""


class RedisSlidingWindow:
    """One budget per key for the whole distributed deployment."""

    def __init__(
        self, url: str, limit: int, window_seconds: float, segments: int, prefix: str
    ) -> None:
        import redis.asyncio

        self._limit = limit
        self._segment_ms = int(window_seconds * 1000 / segments)
        self._segments = segments
        self._prefix = prefix
        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._redis.register_script(_ACQUIRE)
        self._outage = RedisOutage("OpenShock request limits")
        self._fallback = MemorySlidingWindow(limit, window_seconds, segments)

    async def acquire(self, key: str) -> float:
        import redis

        if self._outage.ongoing():
            return await self._fallback.acquire(key)
        args = [int(time.time() * 1000), self._segment_ms, self._segments, self._limit]
        try:
            wait_ms = await self._script(keys=[f"{self._prefix}:{key}"], args=args)
        except (redis.RedisError, OSError) as exc:
            self._outage.failed(exc)
            return await self._fallback.acquire(key)
        self._outage.succeeded()
        return int(wait_ms) / 1000

    async def close(self) -> None:
        await self._redis.aclose()
