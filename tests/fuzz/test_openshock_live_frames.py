"""OpenShock live control (/1/ws/live/{hubId}): client frames fuzzed on a live socket, with
its hub online through the hub websocket the whole time (a thread answers its Pings and
drains the command lists the ticks send it)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from gateways.openshock import hub_frames
from tests.e2e.conftest import Stack
from tests.e2e.openshock_accounts import (
    USER_AGENT,
    Account,
    add_shocker,
    create_hub,
    http_client,
    new_account,
    paired_hub_token,
)
from tests.e2e.openshock_hub import TestHub
from tests.fuzz.conftest import frames
from tests.fuzz.frame_fuzzer import WEBSOCKET_CLOSE_CODES, FrameFuzzer, Surface, open_websocket
from tests.fuzz.frames import Frame
from tests.fuzz.json_frames import json_frames

# The hub's leaving (1000) is not what the frames cause, but a close the protocol has.
CLOSE_CODES = WEBSOCKET_CLOSE_CODES | {1000}
NOT_FOUND = json.dumps({"ResponseType": "RequestTypeNotFound", "Data": None}, separators=(",", ":"))


def _seeds(shocker_id: str) -> list[dict[str, Any]]:
    one = {"Shocker": shocker_id, "Intensity": 30, "Type": "Vibrate"}
    return [
        {"RequestType": "Frame", "Data": one},
        {"requestType": 0, "data": {**one, "Type": 1}},
        {"RequestType": "BulkFrame", "Data": [one, {**one, "Type": "stop", "Intensity": 0}]},
        {"RequestType": "Pong", "Data": {"Timestamp": 1}},
        {"RequestType": 1000, "Data": {}},
    ]


def _probe(index: int) -> Frame:
    """A request type no server knows: answered RequestTypeNotFound, the socket goes on."""
    body = {"RequestType": 40_000 + index, "Data": {}}
    return Frame(json.dumps(body).encode(), True, "probe")


class _OnlineHub:
    """The hub kept online in a thread for as long as the fuzzing runs."""

    def __init__(self, hub: TestHub) -> None:
        self._hub = hub
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fuzz-hub", daemon=True)

    def __enter__(self) -> _OnlineHub:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stopping.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._hub.receive(timeout=0.5)
            except TimeoutError:
                continue
            except ConnectionClosed:
                return


@pytest.fixture
def live_hub(fuzzed: Stack) -> Iterator[tuple[Account, str, str]]:
    owner = new_account(fuzzed.url)
    with http_client(fuzzed.url) as client:
        hub_id = create_hub(client, owner, "Fuzzed")
        shocker_id = add_shocker(client, owner, hub_id, rf_id=99)
        token = paired_hub_token(client, owner, hub_id)
    with TestHub(fuzzed.url, token) as hub:
        hub.send(hub_frames.BootStatus(boot_type=0, firmware_version="1.5.2", ota_update_id=0))
        hub.online(timeout=30)
        with http_client(fuzzed.url) as client:
            deadline = time.monotonic() + 15
            # Online once the views show its first Pong.
            while client.get(f"/2/devices/{hub_id}/lcg", headers=owner.headers).is_error:
                assert time.monotonic() < deadline, "the hub did not come online"
                time.sleep(0.05)
        with _OnlineHub(hub):
            yield owner, hub_id, shocker_id


def _connect(stack: Stack, owner: Account, hub_id: str) -> ClientConnection:
    connection = open_websocket(
        f"{stack.ws_url}/1/ws/live/{hub_id}?tps=10",
        additional_headers={"OpenShockToken": owner.api_token, "User-Agent": USER_AGENT},
    )
    for expected in ("TPS", "DeviceConnected"):
        greeting = json.loads(connection.recv(timeout=10))
        assert greeting["ResponseType"] == expected, greeting
    return connection


def test_openshock_live_frames(
    fuzzed: Stack, fuzzer: FrameFuzzer, live_hub: tuple[Account, str, str]
) -> None:
    owner, hub_id, shocker_id = live_hub

    def well_behaved() -> None:
        with _connect(fuzzed, owner, hub_id) as live:
            live.send(json.dumps({"RequestType": "Dance", "Data": {}}))
            assert _next_answer(live) == NOT_FOUND
            live.send(json.dumps(_seeds(shocker_id)[0]))
            live.send(json.dumps({"RequestType": 7, "Data": {}}))
            # The frame was taken silently: the next answer is the unknown request type's.
            assert _next_answer(live) == NOT_FOUND

    surface = Surface(
        "/1/ws/live/{hubId}",
        connect=lambda: _connect(fuzzed, owner, hub_id),
        well_behaved=well_behaved,
        close_codes=CLOSE_CODES,
        probe=_probe,
        is_probe_answer=lambda message, index: message == NOT_FOUND,
    )
    seeds = _seeds(shocker_id)
    print(dict(fuzzer.run(surface, json_frames(seeds, long_field="RequestType"), frames(500))))


def _next_answer(live: ClientConnection) -> str:
    """The next message that is not the server's Ping."""
    while True:
        message = live.recv(timeout=10)
        assert isinstance(message, str)
        if json.loads(message)["ResponseType"] != "Ping":
            return message
