"""An OpenShock hub as its firmware talks to the gateway, for tests: FlatBuffers frames built
and read with the code flatc generated from the upstream schemas (gateways/openshock/wire,
through hub_frames' hub side)."""

from __future__ import annotations

import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from gateways.openshock import hub_frames

UPTIME_MS = 3_600_000  # an hour since boot: a plausible Pong


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1)


class TestHub:
    __test__ = False  # not a test class

    def __init__(
        self,
        base_url: str,
        token: str,
        firmware: str = "1.5.2",
        schema: int = 2,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.schema = schema
        path = "/2/ws/hub" if schema == 2 else "/1/ws/device"
        sent = {"Device-Token": token, "Firmware-Version": firmware, "User-Agent": "OpenShock/x"}
        # Entered at once (websockets wants its connections used as context managers).
        self.socket: ClientConnection = connect(
            ws_url(base_url) + path, additional_headers=headers or sent, max_size=None
        ).__enter__()
        self.pings = 0

    def __enter__(self) -> TestHub:
        return self

    def __exit__(self, *_: Any) -> None:
        self.socket.close()

    def send(self, message: hub_frames.HubMessage) -> None:
        self.socket.send(hub_frames.hub_frame(message, self.schema))

    def receive(
        self, timeout: float = 10.0, answer_pings: bool = True
    ) -> hub_frames.GatewayMessage:
        """The next message that is not a Ping (Pings are answered with a Pong)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.socket.recv(max(0.01, deadline - time.monotonic()))
            assert isinstance(frame, bytes), f"a text frame from the gateway: {frame!r}"
            message = hub_frames.read_gateway_message(frame, self.schema)
            if isinstance(message, hub_frames.GatewayPing) and answer_pings:
                self.pings += 1
                self.send(hub_frames.Pong(uptime_ms=UPTIME_MS, rssi=-60))
                continue
            return message

    def online(self, timeout: float = 10.0) -> None:
        """Answers the first Ping (a hub is online from its first Pong)."""
        deadline = time.monotonic() + timeout
        while self.pings == 0:
            frame = self.socket.recv(max(0.01, deadline - time.monotonic()))
            assert isinstance(frame, bytes)
            message = hub_frames.read_gateway_message(frame, self.schema)
            if isinstance(message, hub_frames.GatewayPing):
                self.pings += 1
                self.send(hub_frames.Pong(uptime_ms=UPTIME_MS, rssi=-60))

    def closed_with(self, timeout: float = 10.0) -> int | None:
        """The close code the gateway ended the connection with."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.socket.recv(max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
