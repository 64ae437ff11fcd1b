"""/api/v1/ws: integrators' client frames (PING and anything else) fuzzed on a live server."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from websockets.sync.client import ClientConnection

from tests.e2e.conftest import Stack
from tests.fuzz.conftest import frames
from tests.fuzz.frame_fuzzer import FrameFuzzer, Surface, open_websocket
from tests.fuzz.frames import Frame
from tests.fuzz.json_frames import json_frames
from tests.keys import make_key

SEEDS: list[dict[str, Any]] = [
    {"type": "PING"},
    {"type": "PONG"},
    {"type": "SUBSCRIBE", "events": ["DEVICE_AUTH_UPDATE"], "after": 0},
]
PONG = '{"type":"PONG"}'
PING = Frame(b'{"type":"PING"}', True, "probe")
# Frames that found defects, kept as they were found.
FOUND = [
    # A message the server still answers, then invalid UTF-8 in the same read: the answer
    # to the first raised RuntimeError (sent after the transport closed with 1007).
    PING,  # so that the server waits in receive when the next two arrive
    Frame(b"\xff", True, "invalid UTF-8", preceded_by=(PING,)),
]


def event_socket(stack: Stack, token: str) -> ClientConnection:
    return open_websocket(f"{stack.ws_url}/api/v1/ws?token={token}")


def test_event_socket_frames(fuzzed: Stack, fuzzer: FrameFuzzer) -> None:
    token = fuzzed.token("deviceAuth:read,deviceAuth:update", name="fuzz-events")

    def well_behaved() -> None:
        with event_socket(fuzzed, token) as listener:
            listener.send('{"type":"PING"}')
            assert listener.recv(timeout=10) == PONG
            identifier = f"FUZZ-{uuid.uuid4().hex[:10]}".upper()
            registered = httpx.post(
                f"{fuzzed.url}/api/v1/deviceauth/{identifier}",
                json={"publicKey": make_key("ed25519").pem},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert registered.status_code == 204, registered.text
            update = json.loads(listener.recv(timeout=10))
            assert update["type"] == "DEVICE_AUTH_UPDATE" and identifier in json.dumps(update)

    surface = Surface(
        "/api/v1/ws",
        connect=lambda: event_socket(fuzzed, token),
        well_behaved=well_behaved,
        probe=lambda index: PING,
        is_probe_answer=lambda message, index: message == PONG,
        answers_every_frame=True,
    )
    print(dict(fuzzer.replay(surface, FOUND)))
    print(dict(fuzzer.run(surface, json_frames(SEEDS, long_field="type"), frames(600))))
