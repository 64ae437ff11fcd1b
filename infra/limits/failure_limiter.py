"""Counts failures (device challenges, logins) per key in a sliding window.

In memory on the embedded deployment; in Redis on the distributed one, so that an address
that fails on one node is slowed down and refused on every node. The callers are
synchronous (authlib's login in a worker thread, the device gateway through a thread).
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from typing import Protocol

from infra.limits.redis_outage import RedisOutage


class FailureLimiter(Protocol):
    def blocked(self, *keys: str) -> float:
        """Seconds until every key may try again; 0 when none is blocked."""
        ...

    def record_failure(self, *keys: str) -> None: ...

    def recent(self, key: str) -> int:
        """Failures of this key within the window."""
        ...


class MemoryFailureLimiter:
    def __init__(self, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self._limit = limit
        self._window = window_seconds
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, *keys: str) -> float:
        """Seconds until every key may try again; 0 when none is blocked."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            recent = self._trimmed(key, now)
            if recent is not None and len(recent) >= self._limit:
                wait = max(wait, recent[0] + self._window - now)
        return wait

    def record_failure(self, *keys: str) -> None:
        now = time.monotonic()
        if len(self._failures) > self._max_keys:
            # Keep memory bounded under a flood of distinct identifiers.
            for key in [
                k for k, v in self._failures.items() if not v or v[-1] < now - self._window
            ]:
                del self._failures[key]
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def recent(self, key: str) -> int:
        recent = self._trimmed(key, time.monotonic())
        return len(recent) if recent is not None else 0

    def _trimmed(self, key: str, now: float) -> deque[float] | None:
        recent = self._failures.get(key)
        if recent is None:
            return None
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        return recent


# KEYS: one sorted set per key (member: a failure, score: when, in ms).
# ARGV: now ms, window ms, limit. Returns the wait in ms until every key may try again.
_BLOCKED = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
return wait
"""

# ARGV: now ms, window ms, a member name unique to this failure.
_RECORD = """
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, tonumber(ARGV[1]), ARGV[3] .. ':' .. i)
  redis.call('PEXPIRE', key, tonumber(ARGV[2]))
end
return 0
"""


class RedisFailureLimiter:
    """The same sliding window, shared by every node through Redis."""

    def __init__(
        self, url: str, name: str, limit: int, window_seconds: float, prefix: str = "hubline"
    ) -> None:
        import redis

        self._limit = limit
        self._window_ms = int(window_seconds * 1000)
        self._prefix = f"{prefix}:failures:{name}"
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._blocked = self._redis.register_script(_BLOCKED)
        self._record = self._redis.register_script(_RECORD)
        self._errors = (redis.RedisError, OSError)
        self._outage = RedisOutage(f"failed {name} attempts")
        self._fallback = MemoryFailureLimiter(limit, window_seconds)

    def blocked(self, *keys: str) -> float:
        if self._outage.ongoing():
            return self._fallback.blocked(*keys)
        try:
            wait_ms = self._blocked(
                keys=self._keys(keys), args=[_now_ms(), self._window_ms, self._limit]
            )
        except self._errors as exc:
            self._outage.failed(exc)
            return self._fallback.blocked(*keys)
        self._outage.succeeded()
        return max(0.0, float(wait_ms) / 1000)

    def record_failure(self, *keys: str) -> None:
        if self._outage.ongoing():
            self._fallback.record_failure(*keys)
            return
        try:
            self._record(
                keys=self._keys(keys), args=[_now_ms(), self._window_ms, secrets.token_hex(8)]
            )
        except self._errors as exc:
            self._outage.failed(exc)
            self._fallback.record_failure(*keys)

    def recent(self, key: str) -> int:
        if self._outage.ongoing():
            return self._fallback.recent(key)
        (full_key,) = self._keys((key,))
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(full_key, "-inf", _now_ms() - self._window_ms)
        pipe.zcard(full_key)
        try:
            return int(pipe.execute()[1])
        except self._errors as exc:
            self._outage.failed(exc)
            return self._fallback.recent(key)

    def close(self) -> None:
        self._redis.close()

    def _keys(self, keys: tuple[str, ...]) -> list[str]:
        return [f"{self._prefix}:{key}" for key in keys]


def _now_ms() -> int:
    # Wall-clock time: the nodes sharing a window must share a clock.
    return int(time.time() * 1000)
