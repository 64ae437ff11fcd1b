"""Failed logins and device challenges, counted in memory and in a real shared Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from infra.limits.failure_limiter import FailureLimiter, MemoryFailureLimiter, RedisFailureLimiter
from tests.conftest import IN_CI, REDIS_URL


def redis_url() -> str:
    if not REDIS_URL:
        message = "Redis is not running: run the suite with `make test`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[FailureLimiter]:
    if request.param == "memory":
        yield MemoryFailureLimiter(3, 0.5)
        return
    shared = RedisFailureLimiter(redis_url(), f"test-{uuid.uuid4().hex}", 3, 0.5)
    yield shared
    shared.close()


def test_a_key_is_refused_after_the_limit_until_its_oldest_failure_leaves_the_window(
    limiter: FailureLimiter,
) -> None:
    assert limiter.blocked("address:a") == 0
    for _ in range(3):
        limiter.record_failure("device:x", "address:a")
    assert limiter.recent("address:a") == 3
    wait = limiter.blocked("device:y", "address:a")
    assert 0 < wait <= 0.5
    assert limiter.blocked("device:y", "address:b") == 0
    time.sleep(wait + 0.05)
    assert limiter.blocked("address:a") == 0 and limiter.recent("address:a") == 0


def test_nodes_share_one_window_through_redis() -> None:
    name = f"test-{uuid.uuid4().hex}"
    url = redis_url()
    a, b = (RedisFailureLimiter(url, name, 3, 60) for _ in range(2))
    try:
        a.record_failure("login:10.0.0.1")
        b.record_failure("login:10.0.0.1")
        assert a.blocked("login:10.0.0.1") == 0
        a.record_failure("login:10.0.0.1")
        assert b.blocked("login:10.0.0.1") > 59 and b.recent("login:10.0.0.1") == 3
    finally:
        a.close()
        b.close()


def test_with_redis_unreachable_failures_are_counted_on_this_node() -> None:
    limiter = RedisFailureLimiter("redis://127.0.0.1:1/0", "test", 2, 60)
    limiter.record_failure("address:c")
    assert limiter.blocked("address:c") == 0 and limiter.recent("address:c") == 1
    limiter.record_failure("address:c")
    assert limiter.blocked("address:c") > 59
    limiter.close()
