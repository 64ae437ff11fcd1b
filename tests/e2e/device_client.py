"""A device as it connects: open the socket, answer the challenge, read the verdict."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.keys import DeviceKey

Answer = Callable[[bytes], str]


@dataclass
class Verdict:
    frames: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None

    @property
    def accepted(self) -> bool:
        return any(f.get("type") == "DEVICE_AUTH_ACCEPTED" for f in self.frames)

    @property
    def reason(self) -> str:
        return next(
            (f["reason"] for f in self.frames if f.get("type") == "DEVICE_AUTH_REJECTED"), ""
        )

    @property
    def challenge(self) -> dict[str, Any] | None:
        return next((f for f in self.frames if f.get("type") == "DEVICE_AUTH_CHALLENGE"), None)


def signed_answer(key: DeviceKey) -> Answer:
    def answer(challenge: bytes) -> str:
        signature = base64.b64encode(key.sign(challenge)).decode()
        return json.dumps({"type": "DEVICE_AUTH_RESPONSE", "signature": signature})

    return answer


def _handshake(conn: ClientConnection, answer: Answer) -> Verdict:
    verdict = Verdict()
    try:
        while True:
            frame = json.loads(conn.recv(timeout=15))
            verdict.frames.append(frame)
            if frame["type"] == "DEVICE_AUTH_CHALLENGE":
                # A late answer may find the socket closed; the verdict is still queued to read.
                with contextlib.suppress(ConnectionClosed):
                    conn.send(answer(base64.b64decode(frame["challenge"])))
            elif frame["type"] == "DEVICE_AUTH_ACCEPTED":
                return verdict
            elif frame["type"] == "DEVICE_AUTH_REJECTED":
                conn.recv(timeout=5)  # the close frame follows
                return verdict
    except ConnectionClosed as closed:
        verdict.close_code = closed.rcvd.code if closed.rcvd else None
        return verdict


def connect_device(
    ws_url: str, identifier: str, key: DeviceKey | None, answer: Answer | None = None
) -> Verdict:
    """Connect; sign the challenge with `key`, or send what `answer` makes of the challenge."""
    reply = answer or (signed_answer(key) if key is not None else lambda _: "{}")
    with connect(f"{ws_url}/ws/devices/{identifier}", open_timeout=10) as conn:
        return _handshake(conn, reply)


@contextmanager
def device_session(ws_url: str, identifier: str, key: DeviceKey) -> Iterator[ClientConnection]:
    """An accepted device's open session."""
    with connect(f"{ws_url}/ws/devices/{identifier}", open_timeout=10) as conn:
        verdict = _handshake(conn, signed_answer(key))
        assert verdict.accepted, verdict.frames
        yield conn
