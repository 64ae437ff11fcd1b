"""The SENZ burst and rate limits, on in-memory counters and on a real shared Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from infra.limits.rate_limits import (
    MemoryRateLimiter,
    RateDecision,
    RateLimiter,
    RedisRateLimiter,
    parse_rules,
    reset_header,
)
from tests.conftest import IN_CI, REDIS_URL

SENZ = parse_rules("50/1s,750/30m,20000/12h,250000/7d")
LOOP = asyncio.new_event_loop()  # one loop for the module: a Redis client keeps to its loop


def hit(limiter: RateLimiter, key: str, now: datetime) -> RateDecision:
    return LOOP.run_until_complete(limiter.hit(key, now))


T0 = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter(SENZ)
        return
    if not REDIS_URL:
        message = "Redis is not running: run the suite with `make test`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    yield RedisRateLimiter(REDIS_URL, SENZ, prefix=f"test:{uuid.uuid4().hex}")


def test_rules_parse_shortest_first() -> None:
    assert [r.label for r in parse_rules("250000/7d, 50/1s,750/30m")] == ["1s", "30m", "7d"]
    with pytest.raises(ValueError, match="LIMIT/PERIOD"):
        parse_rules("fifty per second")


def test_burst_limit_blocks_the_51st_call_in_a_second(limiter: RateLimiter) -> None:
    key = f"user:{uuid.uuid4()}:client"
    decisions = [hit(limiter, key, T0 + timedelta(milliseconds=n)) for n in range(51)]
    assert all(d.allowed for d in decisions[:50])
    blocked = decisions[50]
    assert not blocked.allowed and blocked.rule.label == "1s"
    assert blocked.quota_message() == "API calls quota exceeded! maximum admitted 50 per 1s."
    assert blocked.retry_after_seconds(T0 + timedelta(milliseconds=50)) == 1
    # A new second opens a new burst window.
    assert hit(limiter, key, T0 + timedelta(seconds=1, milliseconds=1)).allowed


def test_allowed_calls_describe_the_longest_window(limiter: RateLimiter) -> None:
    key = f"user:{uuid.uuid4()}:client"
    first = hit(limiter, key, T0)
    second = hit(limiter, key, T0 + timedelta(seconds=2))
    assert first.rule.label == "7d" and first.remaining == 249_999
    assert second.remaining == 249_998
    assert second.window_ends_at == T0 + timedelta(days=7)
    assert reset_header(second.window_ends_at) == "2026-11-30T12:00:00.0000000Z"


def test_a_call_blocked_by_a_short_rule_is_not_counted_in_longer_ones(limiter: RateLimiter) -> None:
    key = f"user:{uuid.uuid4()}:client"
    for n in range(60):  # 10 of these are blocked by the 1s rule
        hit(limiter, key, T0 + timedelta(milliseconds=n))
    later = hit(limiter, key, T0 + timedelta(seconds=5))
    assert later.allowed and later.remaining == 250_000 - 51


def test_the_thirty_minute_limit(limiter: RateLimiter) -> None:
    key = f"user:{uuid.uuid4()}:client"
    moments = [T0 + timedelta(seconds=2 * n) for n in range(751)]  # 1 call every 2 s
    decisions = [hit(limiter, key, moment) for moment in moments]
    assert all(d.allowed for d in decisions[:750])
    assert not decisions[750].allowed and decisions[750].rule.label == "30m"
    assert decisions[750].retry_after_seconds(moments[750]) == 30 * 60 - 1500


def test_users_of_one_client_do_not_share_counters(limiter: RateLimiter) -> None:
    client = uuid.uuid4().hex
    for n in range(51):
        hit(limiter, f"alice:{client}", T0 + timedelta(milliseconds=n))
    assert not hit(limiter, f"alice:{client}", T0 + timedelta(milliseconds=60)).allowed
    assert hit(limiter, f"bob:{client}", T0 + timedelta(milliseconds=60)).allowed


def test_nodes_share_counters_through_redis() -> None:
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("Redis is not running")
        pytest.skip("Redis is not running")
    prefix = f"test:{uuid.uuid4().hex}"
    nodes = [RedisRateLimiter(REDIS_URL, SENZ, prefix=prefix) for _ in range(2)]
    key = "carol:client"
    decisions = [hit(nodes[n % 2], key, T0 + timedelta(milliseconds=n)) for n in range(51)]
    assert [d.allowed for d in decisions].count(False) == 1 and not decisions[-1].allowed


def test_with_redis_unreachable_limits_are_counted_on_this_node() -> None:
    """A Redis outage must not become an API outage: the node counts on its own for now."""
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", SENZ, prefix=f"test:{uuid.uuid4().hex}")
    decisions = [hit(limiter, "dave:client", T0 + timedelta(milliseconds=n)) for n in range(51)]
    assert all(d.allowed for d in decisions[:50]) and not decisions[50].allowed
