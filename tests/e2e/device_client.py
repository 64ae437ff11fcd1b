"""A device as it connects: open the socket, answer the challenge, read the verdict."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.keys import DeviceKey


@dataclass
class Verdict:
    frames: list[dict[str, Any]]
    close_code: int | None
    connection: ClientConnection | None

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


def connect_device(
    ws_url: str,
    identifier: str,
    key: DeviceKey | None,
    answer: Callable[[bytes], str] | None = None,
    keep_open: bool = False,
) -> Verdict:
    """Connect; sign the challenge with `key`, or send what `answer` makes of the challenge."""
    conn = connect(f"{ws_url}/ws/devices/{identifier}", open_timeout=10)
    frames: list[dict[str, Any]] = []
    try:
        while True:
            frame = json.loads(conn.recv(timeout=15))
            frames.append(frame)
            if frame["type"] == "DEVICE_AUTH_CHALLENGE":
                challenge = base64.b64decode(frame["challenge"])
                if answer is not None:
                    conn.send(answer(challenge))
                else:
                    assert key is not None
                    signature = base64.b64encode(key.sign(challenge)).decode()
                    conn.send(json.dumps({"type": "DEVICE_AUTH_RESPONSE", "signature": signature}))
            elif frame["type"] == "DEVICE_AUTH_ACCEPTED":
                if keep_open:
                    return Verdict(frames, None, conn)
                conn.close()
                return Verdict(frames, None, None)
            elif frame["type"] == "DEVICE_AUTH_REJECTED":
                try:
                    conn.recv(timeout=5)
                except ConnectionClosed as closed:
                    return Verdict(frames, closed.rcvd.code if closed.rcvd else None, None)
                return Verdict(frames, None, None)
    except ConnectionClosed as closed:
        return Verdict(frames, closed.rcvd.code if closed.rcvd else None, None)
