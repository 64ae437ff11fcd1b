"""/ws/devices/{id}: the DeviceAuth challenge response and the session frames after it (a
plain device's and a thermostat's), fuzzed on a live server."""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection

from tests.e2e.conftest import Stack
from tests.e2e.device_client import device_session, signed_answer
from tests.fuzz.conftest import frames
from tests.fuzz.frame_fuzzer import WEBSOCKET_CLOSE_CODES, FrameFuzzer, Surface, open_websocket
from tests.fuzz.frames import Frame
from tests.fuzz.json_frames import json_frames
from tests.keys import DeviceKey, make_key

REJECTED = 4401
PING = Frame(b'{"type":"PING"}', True, "probe")
PONG = '{"type":"PONG"}'
REPORT: dict[str, Any] = {
    "type": "THERMOSTAT_REPORT",
    "currentTemperature": 2050,
    "isHeating": True,
    "errorState": None,
}
SESSION_SEEDS: list[dict[str, Any]] = [
    {"type": "PING"},
    REPORT,
    {"type": "DEVICE_AUTH_RESPONSE", "signature": "AA=="},
]
# Frames that found defects, kept as they were found.
FOUND_IN_SESSIONS = [
    # A message the server still answers, then invalid UTF-8 in the same read: the answer
    # to the first raised RuntimeError (sent after the transport closed with 1007).
    PING,  # so that the server waits in receive when the next two arrive
    Frame(b"\xff", True, "invalid UTF-8", preceded_by=(PING,)),
]
CHALLENGE_SEEDS = [
    {
        "type": "DEVICE_AUTH_RESPONSE",
        "signature": base64.b64encode(random.Random(1).randbytes(64)).decode(),
    },
    {"type": "DEVICE_AUTH_RESPONSE", "signature": "AA=="},
]


def registered_device(stack: Stack, identifier: str | None = None) -> tuple[str, DeviceKey]:
    identifier = identifier or f"FUZZ-{uuid.uuid4().hex[:10]}".upper()
    key = make_key("ed25519")
    registered = httpx.post(
        f"{stack.url}/api/v1/deviceauth/{identifier}",
        json={"publicKey": key.pem},
        headers=stack.auth(),
    )
    assert registered.status_code == 204, registered.text
    return identifier, key


def challenged(stack: Stack, identifier: str) -> ClientConnection:
    connection = open_websocket(f"{stack.ws_url}/ws/devices/{identifier}")
    assert json.loads(connection.recv(timeout=10))["type"] == "DEVICE_AUTH_CHALLENGE"
    return connection


def accepted(stack: Stack, identifier: str, key: DeviceKey) -> ClientConnection:
    connection = open_websocket(f"{stack.ws_url}/ws/devices/{identifier}")
    challenge = json.loads(connection.recv(timeout=10))
    connection.send(signed_answer(key)(base64.b64decode(challenge["challenge"])))
    assert json.loads(connection.recv(timeout=10))["type"] == "DEVICE_AUTH_ACCEPTED"
    return connection


@pytest.fixture(scope="module")
def device(fuzzed: Stack) -> tuple[str, DeviceKey]:
    return registered_device(fuzzed)


def pings(stack: Stack, identifier: str, key: DeviceKey) -> None:
    """A well-behaved device: passes the challenge and is answered."""
    with device_session(stack.ws_url, identifier, key) as session:
        session.send(PING.data.decode())
        assert session.recv(timeout=10) == PONG


def test_challenge_responses(
    fuzzed: Stack, fuzzer: FrameFuzzer, device: tuple[str, DeviceKey]
) -> None:
    identifier, key = device
    surface = Surface(
        "DeviceAuth challenge response",
        connect=lambda: challenged(fuzzed, identifier),
        well_behaved=lambda: pings(fuzzed, identifier, key),
        close_codes=WEBSOCKET_CLOSE_CODES | {REJECTED},
        one_frame_per_connection=True,
    )
    print(dict(fuzzer.run(surface, json_frames(CHALLENGE_SEEDS, "signature"), frames(150))))


def session_surface(stack: Stack, identifier: str, key: DeviceKey) -> Surface:
    return Surface(
        "device session",
        connect=lambda: accepted(stack, identifier, key),
        well_behaved=lambda: pings(stack, identifier, key),
        probe=lambda index: PING,
        is_probe_answer=lambda message, index: message == PONG,
        answers_every_frame=True,
    )


def test_device_session_frames(
    fuzzed: Stack, fuzzer: FrameFuzzer, device: tuple[str, DeviceKey]
) -> None:
    surface = session_surface(fuzzed, *device)
    print(dict(fuzzer.run(surface, json_frames(SESSION_SEEDS, "type"), frames(400))))


def test_frames_that_found_defects(
    fuzzed: Stack, fuzzer: FrameFuzzer, device: tuple[str, DeviceKey]
) -> None:
    fuzzer.replay(session_surface(fuzzed, *device), FOUND_IN_SESSIONS)


def test_thermostat_session_frames(
    fuzzed: Stack, fuzzer: FrameFuzzer, senz_account: dict[str, str]
) -> None:
    serial = senz_account["serial"]
    _, key = registered_device(fuzzed, serial)

    def connect() -> ClientConnection:
        connection = accepted(fuzzed, serial, key)
        assert json.loads(connection.recv(timeout=10))["type"] == "THERMOSTAT_SETPOINT"
        return connection

    def reports() -> None:
        """A well-behaved thermostat: its report is taken and shown."""
        with device_session(fuzzed.ws_url, serial, key) as session:
            session.recv(timeout=10)  # its set point
            session.send(json.dumps({**REPORT, "currentTemperature": 1234}))
            deadline = time.monotonic() + 10
            while _shown(fuzzed, senz_account)["currentTemperature"] != 1234:
                assert time.monotonic() < deadline, "the report was not taken"
                time.sleep(0.1)

    surface = Surface(
        "thermostat session",
        connect=connect,
        well_behaved=reports,
        # A report is not answered and set points may arrive at any time: the PONG read
        # may be a PING frame's own, which only delays the check by a frame.
        probe=lambda index: PING,
        is_probe_answer=lambda message, index: message == PONG,
    )
    maker = json_frames([REPORT, {"type": "PING"}], long_field="errorState")
    print(dict(fuzzer.run(surface, maker, frames(300))))


def _shown(stack: Stack, account: dict[str, str]) -> dict[str, object]:
    response = httpx.get(
        f"{stack.url}/api/v1/Thermostat/{account['serial']}",
        headers={"Authorization": f"Bearer {account['token']}"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())
