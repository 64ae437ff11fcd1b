"""Burst and rate limits per user and client, counted the way AspNetCoreRateLimit counts.

Each rule is a fixed window that opens at the first request after the previous window
closed. Rules are applied from the shortest period to the longest; a request blocked by
one rule is not counted in any longer one. The embedded deployment counts in memory;
the distributed one counts in Redis, atomically, so every node sees the same windows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from infra.limits.redis_outage import RedisOutage

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RULE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)([smhd])\s*$")


@dataclass(frozen=True)
class RateRule:
    limit: int
    seconds: int
    label: str  # as the 429 message and X-Rate-Limit-Limit write it: "1s", "30m", "7d"


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    # The rule that blocked, or the longest rule when allowed (the one the headers describe).
    rule: RateRule
    remaining: int
    window_ends_at: datetime

    def retry_after_seconds(self, now: datetime) -> int:
        return max(1, math.ceil((self.window_ends_at - now).total_seconds()))

    def quota_message(self) -> str:
        return (
            f"API calls quota exceeded! maximum admitted {self.rule.limit} per {self.rule.label}."
        )


def parse_rules(text: str) -> tuple[RateRule, ...]:
    """'50/1s,750/30m,20000/12h,250000/7d' → rules, shortest period first."""
    rules = []
    for part in text.split(","):
        match = _RULE.match(part)
        if match is None:
            raise ValueError(
                f"rate rule {part!r} must look like LIMIT/PERIOD, e.g. 50/1s or 750/30m"
            )
        limit, amount, unit = int(match[1]), int(match[2]), match[3]
        rules.append(RateRule(limit, amount * _UNITS[unit], f"{amount}{unit}"))
    return tuple(sorted(rules, key=lambda r: r.seconds))


class RateLimiter(Protocol):
    """Counted on the event loop: in memory it is a dict update, in Redis one round trip."""

    async def hit(self, key: str, now: datetime) -> RateDecision: ...


class MemoryRateLimiter:
    """One process's counters: the embedded deployment has one process."""

    def __init__(self, rules: Sequence[RateRule], max_keys: int = 200_000) -> None:
        self._rules = tuple(rules)
        self._windows: dict[tuple[str, int], tuple[float, int]] = {}
        self._max_keys = max_keys

    async def hit(self, key: str, now: datetime) -> RateDecision:
        # No await inside: on one event loop the read-modify-write below is atomic.
        stamp = now.timestamp()
        if len(self._windows) > self._max_keys:
            self._forget_closed(stamp)
        counted: tuple[float, int] = (stamp, 0)
        for rule in self._rules:
            start, count = self._windows.get((key, rule.seconds), (stamp, 0))
            if stamp >= start + rule.seconds:
                start, count = stamp, 0
            count += 1
            self._windows[(key, rule.seconds)] = (start, count)
            counted = (start, count)
            if count > rule.limit:
                return _decision(False, rule, counted)
        return _decision(True, self._rules[-1], counted)

    def _forget_closed(self, stamp: float) -> None:
        closed = [k for k, (start, _) in self._windows.items() if stamp >= start + k[1]]
        for window in closed:
            del self._windows[window]


# KEYS: one counter hash per rule, shortest period first.
# ARGV: now in ms, then limit and period (ms) per rule.
# Returns: [allowed (1/0), index of the deciding rule (1-based), window start ms, count].
_HIT = """
local now = tonumber(ARGV[1])
local start, count
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  start = tonumber(redis.call('HGET', key, 'start'))
  if start == nil or now >= start + period then
    start = now
    redis.call('HSET', key, 'start', start, 'count', 0)
    redis.call('PEXPIRE', key, period)
  end
  count = redis.call('HINCRBY', key, 'count', 1)
  if count > limit then
    return {0, i, start, count}
  end
end
return {1, #KEYS, start, count}
"""


class RedisRateLimiter:
    """Counters shared by every node of the distributed deployment."""

    def __init__(self, url: str, rules: Sequence[RateRule], prefix: str = "hubline:rate") -> None:
        import redis.asyncio

        self._rules = tuple(rules)
        self._prefix = prefix
        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._redis.register_script(_HIT)
        self._outage = RedisOutage("rate limits")
        self._fallback = MemoryRateLimiter(rules)

    async def hit(self, key: str, now: datetime) -> RateDecision:
        import redis

        if self._outage.ongoing():
            return await self._fallback.hit(key, now)
        keys = [f"{self._prefix}:{key}:{rule.label}" for rule in self._rules]
        args: list[int] = [int(now.timestamp() * 1000)]
        for rule in self._rules:
            args += [rule.limit, rule.seconds * 1000]
        try:
            allowed, index, start_ms, count = await self._script(keys=keys, args=args)
        except (redis.RedisError, OSError) as exc:
            self._outage.failed(exc)
            return await self._fallback.hit(key, now)
        self._outage.succeeded()
        rule = self._rules[int(index) - 1]
        return _decision(bool(allowed), rule, (int(start_ms) / 1000, int(count)))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._redis.aclose()


def _decision(allowed: bool, rule: RateRule, window: tuple[float, int]) -> RateDecision:
    start, count = window
    return RateDecision(
        allowed=allowed,
        rule=rule,
        remaining=max(0, rule.limit - count),
        window_ends_at=datetime.fromtimestamp(start, UTC) + timedelta(seconds=rule.seconds),
    )


def reset_header(moment: datetime) -> str:
    """ISO-8601 UTC with seven fractional digits, as .NET writes it (…T12:00:00.0000000Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
