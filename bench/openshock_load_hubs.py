"""Simulated OpenShock hubs for the benches: many on one asyncio loop, each a websockets
client on /2/ws/hub speaking the current FlatBuffers schema through the codec's hub side
(gateways/openshock/hub_frames.py), answering the gateway's Pings and stamping each command
list as its frame arrives.

Also what the hub benches share: hubs made through REST as their owners make them, the
deployment's settings for the benches that make many hubs with the bus directly, a bare
HTTP/1.1 client cheap enough to leave the CPU to the server, and percentiles.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from websockets.exceptions import ConnectionClosed

from bench.deployments import RunningDeployment
from gateways.openshock import hub_frames
from infra.settings import Settings
from tests.e2e.openshock_accounts import (
    Account,
    add_shocker,
    create_hub,
    http_client,
    new_account,
    paired_hub_token,
)

# Every OpenShock limit off: the real API's 120 requests a minute per user, and 10 signups
# a minute per address, would answer 429 within the first second.
LIMITS_OFF = {
    "HUBLINE_OPENSHOCK_USER_REQUESTS_PER_MINUTE": "0",
    "HUBLINE_OPENSHOCK_ANONYMOUS_REQUESTS_PER_MINUTE": "0",
    "HUBLINE_OPENSHOCK_AUTH_REQUESTS_PER_MINUTE": "0",
}
FIRMWARE = "1.5.2"
USER_AGENT = "OpenShock/bench"
UPTIME_MS = 3_600_000  # an hour since boot: a plausible Pong
HUBS_PER_ACCOUNT = 4  # MAX_HUBS_PER_USER

# Called with each command list and the perf_counter() at which its frame arrived.
OnCommands = Callable[[hub_frames.GatewayCommands, float], None]


@dataclass(frozen=True)
class PairedHub:
    owner: Account
    hub_id: str
    shocker_id: str
    token: str  # the hub's Device-Token


def paired_hubs(url: str, count: int) -> list[PairedHub]:
    """`count` hubs of one shocker each, `HUBS_PER_ACCOUNT` to an account, made over REST:
    signup, hub, shocker, pair code redeemed as a hub redeems it."""
    made: list[PairedHub] = []
    while len(made) < count:
        owner = new_account(url, "bench")
        with http_client(url, owner.address) as client:
            for n in range(min(HUBS_PER_ACCOUNT, count - len(made))):
                hub_id = create_hub(client, owner, f"Bench {n}")
                shocker_id = add_shocker(client, owner, hub_id, rf_id=1000 + n)
                token = paired_hub_token(client, owner, hub_id)
                made.append(PairedHub(owner, hub_id, shocker_id, token))
    return made


def deployment_settings(deployment: RunningDeployment) -> Settings:
    """The settings `serve` runs with, for a bench that writes through its own bus."""
    flags = dict(zip(deployment.cli_flags[::2], deployment.cli_flags[1::2], strict=True))
    return Settings.load(
        {name.removeprefix("--").replace("-", "_"): value for name, value in flags.items()},
        environ=deployment.env,
    )


def hub_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/2/ws/hub"


@dataclass
class LoadHub:
    """One hub's socket; `run` reads it until it closes."""

    socket: Any
    on_commands: OnCommands | None = None
    pings: int = 0
    commands: int = 0
    online: asyncio.Event = field(default_factory=asyncio.Event)
    closed_with: int | None = None

    async def run(self) -> None:
        pong = hub_frames.hub_frame(hub_frames.Pong(uptime_ms=UPTIME_MS, rssi=-60), 2)
        try:
            async for frame in self.socket:
                arrived = time.perf_counter()
                message = hub_frames.read_gateway_message(frame, 2)
                if isinstance(message, hub_frames.GatewayCommands):
                    self.commands += 1
                    if self.on_commands is not None:
                        self.on_commands(message, arrived)
                elif isinstance(message, hub_frames.GatewayPing):
                    self.pings += 1
                    await self.socket.send(pong)
                    self.online.set()
        except ConnectionClosed:
            pass
        self.closed_with = self.socket.close_code


async def connect_hub(base_url: str, token: str, on_commands: OnCommands | None = None) -> LoadHub:
    socket = await websockets.connect(
        hub_url(base_url),
        additional_headers={
            "Device-Token": token,
            "Firmware-Version": FIRMWARE,
            "User-Agent": USER_AGENT,
        },
        compression=None,
        max_size=None,
        open_timeout=120,
        # Only the gateway pings: a hub's firmware does not.
        ping_interval=None,
    )
    return LoadHub(socket, on_commands)


def wait_online(
    base_url: str, hubs: list[tuple[str, dict[str, str]]], within: float = 30.0
) -> None:
    """Until /2/devices/{id}/lcg answers 200 for every (hub id, its owner's headers): online
    as the views say (the live gateway refuses a hub that is not)."""
    deadline = time.monotonic() + within
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for hub_id, headers in hubs:
            while True:
                answer = client.get(f"/2/devices/{hub_id}/lcg", headers=headers)
                if answer.status_code == 200:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"hub {hub_id} not online: {answer.text}")
                time.sleep(0.1)


class BareHttp:
    """One HTTP/1.1 keep-alive connection, written and read by hand: a client library would
    take much of the CPU the server is measured on (two cores for everything)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, base_url: str) -> BareHttp:
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._writer.write(
            f"POST {path} HTTP/1.1\r\nHost: bench\r\n{head}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        answer = await self._reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in answer.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        content = await self._reader.readexactly(length) if length else b""
        return int(answer.split(b" ", 2)[1]), content

    def close(self) -> None:
        self._writer.close()


def percentiles(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ordered = sorted(seconds)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
    return f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {ordered[-1] * 1000:.1f} ms"


def p99(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else float("nan")
