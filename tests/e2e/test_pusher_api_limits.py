"""Pusher's HTTP API against `hubline serve`: each app's request rate (429 in Sockudo's shape,
counted in Redis on the distributed deployment), unknown apps, and info=cache."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pusher
import pytest
from pusher.errors import PusherBadRequest

from tests.conftest import REDIS_URL
from tests.e2e.conftest import Stack, running_stack
from tests.e2e.pusher_apps import PusherApp, create_app

# Low enough for a test to pass it: per app, per second.
RATE = 20


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = {"HUBLINE_PUSHER_API_RATE_LIMIT_RULES": f"{RATE}/1s"}
    with running_stack(tmp_path_factory.mktemp(request.param), request.param, env) as stack:
        yield stack


def _channels(stack: Stack, app: PusherApp) -> pusher.Pusher:
    return app.backend(stack)


def test_each_app_has_its_own_rate(stack: Stack) -> None:
    if stack.kind == "distributed" and not REDIS_URL:
        pytest.skip("the distributed deployment counts in Redis: HUBLINE_TEST_REDIS_URL")
    busy, quiet = create_app(stack), create_app(stack)
    refused = None
    # A window may open halfway through: two windows' worth always passes one.
    for _ in range(2 * RATE + 2):
        try:
            _channels(stack, busy).channels_info()
        except pusher.errors.PusherBadStatus as status:
            refused = status
            break
    assert refused is not None and "429" in str(refused)
    response = _raw_get(stack, busy)
    assert response.status_code == 429
    assert response.json() == {
        "error": f"Too many requests: this app may make {RATE} per 1s",
        "code": "rate_limited",
        "status": 429,
    }
    assert response.headers["Retry-After"] == "1"
    # Another app is not slowed by it, and the busy one is served again in the next window.
    assert _channels(stack, quiet).channels_info() == {"channels": {}}
    time.sleep(1.1)
    assert _channels(stack, busy).channels_info() == {"channels": {}}


def _raw_get(stack: Stack, app: PusherApp) -> httpx.Response:
    """The same request as the library's, to read the 429 it only reports as a status."""
    request = _channels(stack, app)._pusher_client.channels_info.make_request()
    return httpx.get(request.url)


def test_unknown_apps_are_refused_and_found_once_created(stack: Stack) -> None:
    missing = str(700_000_000 + uuid.uuid4().int % 100_000_000)
    for _ in range(200):
        answer = httpx.get(f"{stack.url}/apps/{missing}/channels", params={"auth_key": "k"})
        assert answer.status_code == 404 and answer.json()["code"] == "app_not_found"
    socket_app = create_app(stack)  # the server still serves known apps meanwhile
    assert _channels(stack, socket_app).channels_info() == {"channels": {}}
    stack.cli("apps", "create", "--name", "late", "--id", missing)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answer = httpx.get(f"{stack.url}/apps/{missing}/channels", params={"auth_key": "k"})
        if answer.status_code != 404:
            break
        time.sleep(0.1)
    # Found (and refused for the bad signature): no longer an unknown app.
    assert answer.status_code == 401, answer.text


def test_info_cache_shows_a_cache_channels_last_event(stack: Stack) -> None:
    app = create_app(stack)
    backend = _channels(stack, app)
    channel = f"cache-{uuid.uuid4().hex[:8]}"
    assert backend.channel_info(channel, ["cache"]) == {"occupied": False}
    backend.trigger(channel, "snapshot", {"n": 1})
    deadline = time.monotonic() + 10
    while "cache" not in (info := backend.channel_info(channel, ["cache", "subscription_count"])):
        assert time.monotonic() < deadline, info
        time.sleep(0.05)
    assert info["cache"]["data"] == '{"n": 1}'
    assert 3590 <= info["cache"]["ttl"] <= 3600
    assert info["subscription_count"] == 0 and info["occupied"] is False
    with pytest.raises(PusherBadRequest, match="only for cache channels"):
        backend.channel_info("plain-channel", ["cache"])
