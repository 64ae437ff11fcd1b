"""kill -9 in the middle of a burst of writes: nothing acknowledged is lost, views stay exact."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import Stack, build_stack


class Burst:
    """Writers that keep setting keys on fresh devices and remember what was acknowledged."""

    def __init__(self, stack: Stack, headers: dict[str, str], writers: int = 8) -> None:
        self.stack = stack
        self.headers = headers
        self.acknowledged: dict[str, str] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._write, daemon=True) for _ in range(writers)]

    def __enter__(self) -> Burst:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _write(self) -> None:
        with httpx.Client(base_url=self.stack.url, headers=self.headers, timeout=10) as http:
            while not self._stop.is_set():
                identifier = f"CR-{uuid.uuid4().hex[:12]}".upper()
                key = f"key-{uuid.uuid4().hex}"
                try:
                    response = http.post(
                        f"/api/v1/deviceauth/{identifier}", json={"publicKey": key}
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)  # the server is down or restarting
                    continue
                if response.status_code == 204:
                    with self._lock:
                        self.acknowledged[identifier] = key

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)


def wait_for_writes(burst: Burst, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while burst.count() < at_least:
        assert time.monotonic() < deadline, "the burst made no progress"
        time.sleep(0.02)


def listed(stack: Stack, headers: dict[str, str]) -> dict[str, dict[str, object]]:
    entries = httpx.get(
        f"{stack.url}/api/v1/deviceauth?depth=1", headers=headers, timeout=60
    ).json()
    return {e["deviceIdentifier"]: e["information"] for e in entries}


class Listener:
    """A realtime client that stays subscribed through crashes, resuming from its last position."""

    def __init__(self, stack: Stack, token: str) -> None:
        self.stack = stack
        self.token = token
        self.devices: set[str] = set()
        self.position = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _listen(self) -> None:
        while not self._stop.is_set():
            url = f"{self.stack.ws_url}/api/v1/ws?token={self.token}&after={self.position}"
            try:
                with connect(url, open_timeout=5) as ws:
                    while not self._stop.is_set():
                        try:
                            frame = json.loads(ws.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        if frame.get("type") == "DEVICE_AUTH_UPDATE":
                            self.devices.add(frame["deviceIdentifier"])
                            self.position = max(self.position, frame["position"])
            except (OSError, ConnectionClosed, InvalidStatus, InvalidMessage):
                time.sleep(0.1)  # the server is down: reconnect and resume

    def wait_for(self, expected: set[str], within: float = 60) -> set[str]:
        deadline = time.monotonic() + within
        while not expected <= self.devices and time.monotonic() < deadline:
            time.sleep(0.1)
        return expected - self.devices


def assert_nothing_lost(
    stack: Stack, headers: dict[str, str], burst: Burst, listener: Listener
) -> None:
    now = listed(stack, headers)
    for identifier, key in burst.acknowledged.items():
        assert now.get(identifier, {}).get("publicKey") == key, (
            f"lost acknowledged write {identifier}"
        )
    missing = listener.wait_for(set(burst.acknowledged))
    assert not missing, f"{len(missing)} acknowledged writes were never notified"


def assert_views_equal_rebuild(stack: Stack, headers: dict[str, str]) -> None:
    before = listed(stack, headers)
    stack.stop()
    stack.cli("projections", "rebuild", "device_access")
    stack.start()
    assert listed(stack, headers) == before


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Stack]:
    running = build_stack("embedded", tmp_path)
    running.start()
    yield running
    running.stop()


def test_kill_the_embedded_server_mid_burst(embedded: Stack) -> None:
    headers = embedded.auth()
    reader = embedded.token("deviceAuth:read")
    with Listener(embedded, reader) as listener:
        with Burst(embedded, headers) as burst:
            wait_for_writes(burst, 150)
            embedded.server.kill()
            embedded.server.start()
            wait_for_writes(burst, burst.count() + 50)
        assert_nothing_lost(embedded, headers, burst, listener)
    assert_views_equal_rebuild(embedded, headers)


@pytest.fixture
def distributed(tmp_path: Path) -> Iterator[Stack]:
    running = build_stack("distributed", tmp_path)
    running.start()
    yield running
    running.stop()


def test_kill_the_relay_then_the_server_mid_burst(distributed: Stack) -> None:
    headers = distributed.auth()
    reader = distributed.token("deviceAuth:read")
    relay = distributed.workers[0]
    with Listener(distributed, reader) as listener:
        with Burst(distributed, headers) as burst:
            wait_for_writes(burst, 100)
            relay.kill()
            wait_for_writes(burst, burst.count() + 50)
            relay.start()
            wait_for_writes(burst, burst.count() + 50)
            # Everything so far reached the live subscriber through the restarted relay.
            assert not listener.wait_for(set(burst.acknowledged))
            distributed.server.kill()
            distributed.server.start()
            wait_for_writes(burst, burst.count() + 50)
        assert_nothing_lost(distributed, headers, burst, listener)
    assert_views_equal_rebuild(distributed, headers)
