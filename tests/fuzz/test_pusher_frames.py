"""Pusher Channels client frames (protocol 7) fuzzed on a live /app/{key} socket."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection

from tests.e2e.conftest import Stack
from tests.e2e.pusher_apps import PusherApp, RawSocket, create_app
from tests.fuzz.conftest import frames
from tests.fuzz.frame_fuzzer import WEBSOCKET_CLOSE_CODES, FrameFuzzer, Surface, open_websocket
from tests.fuzz.frames import Frame
from tests.fuzz.json_frames import json_frames

CHANNEL_DATA = json.dumps({"user_id": "fuzz", "user_info": {"name": "fuzz"}})
SEEDS: list[dict[str, Any]] = [
    {"event": "pusher:ping", "data": {}},
    {"event": "pusher:pong", "data": {}},
    {"event": "pusher:subscribe", "data": {"channel": "public-fuzz"}},
    {"event": "pusher:subscribe", "data": {"channel": "private-fuzz", "auth": "key:00ff"}},
    {
        "event": "pusher:subscribe",
        "data": {"channel": "presence-fuzz", "auth": "key:00ff", "channel_data": CHANNEL_DATA},
    },
    {"event": "pusher:unsubscribe", "data": {"channel": "public-fuzz"}},
    {"event": "client-fuzz", "channel": "private-fuzz", "data": {"n": 1}},
    {"event": "pusher:signin", "data": {"auth": "key:00ff", "user_data": '{"id":"fuzz"}'}},
]
# A failed sign-in closes the socket, as Pusher's does.
CLOSE_CODES = WEBSOCKET_CLOSE_CODES | {4009}


def _probe(index: int) -> Frame:
    """A subscribe to a channel of its own: its answer names that channel."""
    body = {"event": "pusher:subscribe", "data": {"channel": f"probe-{index}"}}
    return Frame(json.dumps(body).encode(), True, "probe")


def _is_probe_answer(message: str | bytes, index: int) -> bool:
    frame = json.loads(message)
    return (
        frame.get("event") == "pusher_internal:subscription_succeeded"
        and frame.get("channel") == f"probe-{index}"
    )


def _connect(stack: Stack, app: PusherApp) -> ClientConnection:
    connection = open_websocket(f"{stack.ws_url}/app/{app.key}?protocol=7&client=js&version=8")
    first = json.loads(connection.recv(timeout=10))
    assert first["event"] == "pusher:connection_established", first
    return connection


def test_pusher_frames(fuzzed: Stack, fuzzer: FrameFuzzer) -> None:
    app = create_app(fuzzed)

    def well_behaved() -> None:
        raw = RawSocket(fuzzed, app.key).established()
        try:
            answer = raw.subscribe("public-well-behaved")
            assert answer["event"] == "pusher_internal:subscription_succeeded", answer
            app.backend(fuzzed).trigger("public-well-behaved", "after-fuzz", "ok")
            told = raw.recv()
            assert (told["event"], told["data"]) == ("after-fuzz", "ok"), told
        finally:
            raw.close()

    surface = Surface(
        "/app/{key}",
        connect=lambda: _connect(fuzzed, app),
        well_behaved=well_behaved,
        close_codes=CLOSE_CODES,
        probe=_probe,
        is_probe_answer=_is_probe_answer,
    )
    print(dict(fuzzer.run(surface, json_frames(SEEDS, long_field="event"), frames(600))))
