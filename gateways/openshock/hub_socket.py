"""The websocket an OpenShock hub's firmware keeps open to its gateway: /2/ws/hub (the current
FlatBuffers schema) and /1/ws/device (the legacy V1 schema), as OpenShock's LiveControlGateway
serves them.

Before the upgrade: the hub token (Device-Token or DeviceToken) and a Firmware-Version
header, else a problem answer. After it: binary frames only, one FlatBuffer each, at most
512,000 bytes; one that does not decode closes the socket with 1007 and changes nothing.
One connection per hub: a newer one, on this node or another, ends this one.

Keep-alive as the real gateway: a Ping after 5 s, then every 15 s (V2; a V1 hub sends
KeepAlive by itself), and the socket is closed when no Pong or KeepAlive came within 65 s
of connecting or 35 s of the previous one. The transport also pings at the websocket level
(uvicorn's ws_ping_interval), so that NATs and proxies keep idle hubs' connections open.

What the hub reports becomes events (domain/openshock/hub_link.py): connected, its first
Pong (online), latency when it moves a lot (every 5 minutes at most), boot status, OTA
progress, disconnected. What it is told comes from the log
(projections/openshock_hub_deliveries.py) through HubConnections, on whatever node holds it.
Hub sockets skip the framework's layers (HubSockets), and an idle hub costs no task or timer
of its own beyond the one serving its socket (keep_alive.py): about 30 KiB a hub in all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import WebSocket
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from domain.context import CommandContext
from domain.errors import DomainError
from domain.openshock.hub_link_commands import (
    RecordHubBoot,
    RecordHubConnected,
    RecordHubDisconnected,
    RecordHubLatency,
    RecordOtaFailed,
    RecordOtaProgress,
    RecordOtaStarted,
)
from domain.openshock.hub_link_handlers import is_semver
from gateways.openshock import hub_frames
from gateways.openshock.hub_connections import HubConnections, HubSession
from gateways.openshock.keep_alive import KeepAliveClock
from gateways.openshock.refusals import refuse
from infra.command_bus import CommandBus
from infra.identity.credentials import hash_token
from infra.metrics import OPEN_CONNECTIONS
from infra.openshock.hub_tokens import MAX_PRESENTED_LENGTH, HubTokens
from infra.openshock.presented_credentials import hub_token_of

log = logging.getLogger(__name__)

CURRENT_PATH = "/2/ws/hub"
LEGACY_PATH = "/1/ws/device"
# A hub whose uptime says it booted before this is lying (the real gateway's check).
_EARLIEST_BOOT = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
# Recorded reports (boot, OTA) a session may send a second, on average over ten seconds.
_REPORTS_PER_SECOND = 10


@dataclass(frozen=True)
class HubGatewaySettings:
    # This node's id as its lease names it (it changes if the node is declared gone).
    node_id: Callable[[], str]
    first_ping_seconds: float = 5.0
    ping_every_seconds: float = 15.0
    first_keep_alive_seconds: float = 65.0
    keep_alive_seconds: float = 35.0
    # After the first Pong, a latency is recorded when it moved by half (100 ms at least),
    # at most this often.
    latency_record_seconds: float = 300.0
    # The public gateway URL's path ("" or "/prefix"): hubs dial {prefix}/2/ws/hub.
    path_prefix: str = ""


class HubSockets:
    """ASGI middleware: hub websockets go straight to the gateway, past the framework's
    layers, each of which would keep a frame alive for as long as a hub stays connected
    (thousands of idle hubs); everything else goes to the framework."""

    def __init__(self, app: ASGIApp, gateway: HubGateway) -> None:
        self._app = app
        self._gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and await self._gateway.serve(
            WebSocket(scope, receive, send), scope["path"]
        ):
            return
        await self._app(scope, receive, send)


class HubGateway:
    def __init__(
        self,
        bus: CommandBus,
        tokens: HubTokens,
        connections: HubConnections,
        settings: HubGatewaySettings,
    ) -> None:
        self._bus = bus
        self._tokens = tokens
        self._connections = connections
        self._settings = settings
        # Fine enough for the shortest interval configured (tests ping every 0.2 s).
        self._clock = KeepAliveClock(
            min(1.0, settings.first_ping_seconds, settings.ping_every_seconds) / 2
        )
        # Also under the gateway URL's path prefix, for a proxy that passes it on.
        self._schemas = {
            prefix + path: schema
            for prefix in dict.fromkeys(("", settings.path_prefix))
            for path, schema in ((CURRENT_PATH, 2), (LEGACY_PATH, 1))
        }

    async def serve(self, websocket: WebSocket, path: str) -> bool:
        """Serves the socket if `path` is a hub websocket's (False: not ours)."""
        schema = self._schemas.get(path)
        if schema is None:
            return False
        await self._serve(websocket, schema)
        return True

    async def _serve(self, websocket: WebSocket, schema: int) -> None:
        admitted = await self._admitted(websocket)
        if admitted is None:
            return
        hub_id, token_hash = admitted
        firmware = websocket.headers.get("firmware-version", "").strip()
        if not is_semver(firmware):
            await refuse(
                websocket,
                "Websocket.Hub.FirmwareVersionInvalid",
                "Supplied firmware version header is not valid semver",
                400,
            )
            return
        await websocket.accept()
        gateway = f"openshock-hub-v{schema}"
        OPEN_CONNECTIONS.labels(gateway=gateway).inc()
        session = HubSession(
            hub_id=str(hub_id),
            session_id=str(uuid.uuid4()),
            schema=schema,
            firmware_version=firmware,
            websocket=websocket,
            token_hash=token_hash,
        )
        context = CommandContext(
            actor_id=str(hub_id),
            actor_kind="device",
            source_address=websocket.client.host if websocket.client else None,
        )
        talk = _Conversation(self._bus, session, context, self._settings, self._clock)
        self._connections.add(session)
        try:
            await self._bus.execute(
                RecordHubConnected(
                    hub_id=hub_id,
                    session_id=session.session_id,
                    node_id=self._settings.node_id(),
                    schema=schema,
                    firmware_version=firmware,
                    user_agent=websocket.headers.get("user-agent", "")[:256],
                    context=context,
                )
            )
            talk.start()
            await talk.receive()
        except DomainError:
            session.end(1008, "Hub not found")  # deleted between its token check and now
        except WebSocketDisconnect:
            pass
        finally:
            talk.stop()
            self._connections.remove(session)
            OPEN_CONNECTIONS.labels(gateway=gateway).dec()
            await session.closed()
            with contextlib.suppress(Exception):
                await self._bus.execute(
                    RecordHubDisconnected(
                        hub_id=hub_id,
                        session_id=session.session_id,
                        reason=session.end_reason or "the hub closed the connection",
                        context=context,
                    )
                )

    async def _admitted(self, websocket: WebSocket) -> tuple[UUID, str] | None:
        """The hub and its token's hash, or None after refusing the upgrade."""
        token = hub_token_of(websocket)
        if token is None:
            await refuse(
                websocket,
                "Authentication.HeaderMissingOrInvalid",
                "Missing or invalid authentication header.",
                401,
            )
            return None
        token_hash = hash_token(token)
        hub_id = (
            await asyncio.to_thread(self._tokens.hub_for_hash, token_hash)
            if len(token) <= MAX_PRESENTED_LENGTH
            else None
        )
        if hub_id is None:
            await refuse(websocket, "Authentication.TokenInvalid", "The token is invalid", 401)
            return None
        return hub_id, token_hash


class _Conversation:
    """One session's frames in and the timers that keep it alive."""

    __slots__ = (
        "_bus",
        "_clock",
        "_context",
        "_deadline",
        "_latency_recorded_at",
        "_next_ping",
        "_ping_sent_at",
        "_recorded_latency",
        "_reports",
        "_session",
        "_settings",
    )

    def __init__(
        self,
        bus: CommandBus,
        session: HubSession,
        context: CommandContext,
        settings: HubGatewaySettings,
        clock: KeepAliveClock,
    ) -> None:
        self._bus = bus
        self._session = session
        self._context = context
        self._settings = settings
        self._clock = clock
        self._next_ping: float | None = None
        self._deadline = 0.0
        self._ping_sent_at: float | None = None
        self._recorded_latency: int | None = None
        self._latency_recorded_at = 0.0
        self._reports: list[float] | None = None  # made at the first report

    def start(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._session.schema == 2:  # a V1 hub sends KeepAlive by itself
            self._next_ping = now + self._settings.first_ping_seconds
        self._deadline = now + self._settings.first_keep_alive_seconds
        self._clock.file(self)

    def stop(self) -> None:
        self._clock.forget(self)

    def due(self) -> float | None:
        if self._session.ending:
            return None
        if self._next_ping is None:
            return self._deadline
        return min(self._next_ping, self._deadline)

    def on_time(self, now: float) -> None:
        if now >= self._deadline:
            self._session.end(1002, "Keep alive timeout reached")
        elif self._next_ping is not None and now >= self._next_ping:
            self._ping_sent_at = time.monotonic()
            self._session.send(hub_frames.ping(int(time.time())))
            self._next_ping = now + self._settings.ping_every_seconds

    def _kept_alive(self) -> None:
        # The clock finds the later deadline when the earlier one comes round.
        self._deadline = asyncio.get_running_loop().time() + self._settings.keep_alive_seconds

    async def receive(self) -> None:
        while True:
            message = await self._session.next_message()
            if message is None or message["type"] == "websocket.disconnect":
                return
            frame = message.get("bytes")
            if frame is None:
                self._session.end(1003, "Only binary messages are accepted")
                return
            if len(frame) > hub_frames.MAX_FRAME_BYTES:
                self._session.end(1009, "Message too big")
                return
            try:
                read = hub_frames.read_hub_message(frame, self._session.schema)
            except hub_frames.FrameError as exc:
                log.info("hub %s sent an undecodable frame: %s", self._session.hub_id, exc)
                self._session.end(1007, "Invalid flatbuffers message")
                return
            await self._handle(read)
            # Not held while waiting for the next frame: an idle hub is mostly that wait.
            del message, frame, read

    async def _handle(self, message: hub_frames.HubMessage) -> None:
        if isinstance(message, hub_frames.Pong):
            await self._pong(message)
        elif isinstance(message, hub_frames.KeepAlive):
            # A V1 hub has no Ping to answer: its KeepAlive is both the keep-alive and
            # what makes it online.
            self._kept_alive()
            await self._latency(0, 0)
        elif self._report_allowed():
            await self._record_report(message)

    async def _pong(self, pong: hub_frames.Pong) -> None:
        sent_at = self._ping_sent_at
        if sent_at is None:
            self._session.end(1002, "Received pong without having sent a ping")
            return
        self._ping_sent_at = None
        if time.time() - pong.uptime_ms / 1000 < _EARLIEST_BOOT:
            return  # an impossible uptime is no sign of life
        self._kept_alive()
        await self._latency(round((time.monotonic() - sent_at) * 1000), pong.rssi)

    async def _latency(self, latency_ms: int, rssi: int) -> None:
        last = self._recorded_latency
        now = time.monotonic()
        # The first Pong (the hub is online) is recorded; after it, a latency that moved a lot,
        # at most every latency_record_seconds: thousands of hubs pinged every 15 s must not
        # write the log every 15 s (their jitter under load is tens of milliseconds).
        if last is not None and (
            abs(latency_ms - last) < max(100, last // 2)
            or now - self._latency_recorded_at < self._settings.latency_record_seconds
        ):
            return
        self._recorded_latency, self._latency_recorded_at = latency_ms, now
        await self._execute(
            RecordHubLatency(
                hub_id=UUID(self._session.hub_id),
                session_id=self._session.session_id,
                latency_ms=latency_ms,
                rssi=rssi,
                context=self._context,
            )
        )

    def _report_allowed(self) -> bool:
        # Boot and OTA reports are rare; a hub sending them in a loop is cut off rather than
        # let it write the log as fast as it can send.
        now = time.monotonic()
        self._reports = [t for t in self._reports or () if now - t < 10.0]
        self._reports.append(now)
        if len(self._reports) > 10 * _REPORTS_PER_SECOND:
            self._session.end(1008, "Too many messages")
            return False
        return True

    async def _record_report(self, message: hub_frames.HubMessage) -> None:
        hub_id, session_id, context = (
            UUID(self._session.hub_id),
            self._session.session_id,
            self._context,
        )
        command: Any
        if isinstance(message, hub_frames.BootStatus):
            command = RecordHubBoot(
                hub_id=hub_id,
                session_id=session_id,
                boot_type=message.boot_type,
                firmware_version=message.firmware_version,
                ota_update_id=message.ota_update_id,
                context=context,
            )
        elif isinstance(message, hub_frames.OtaStarted):
            command = RecordOtaStarted(
                hub_id=hub_id,
                session_id=session_id,
                update_id=message.update_id,
                version=message.version,
                now=datetime.now(UTC),
                context=context,
            )
        elif isinstance(message, hub_frames.OtaProgress):
            command = RecordOtaProgress(
                hub_id=hub_id,
                session_id=session_id,
                update_id=message.update_id,
                task=message.task,
                progress=message.progress,
                context=context,
            )
        elif isinstance(message, hub_frames.OtaFailed):
            command = RecordOtaFailed(
                hub_id=hub_id,
                session_id=session_id,
                update_id=message.update_id,
                message=message.message,
                fatal=message.fatal,
                context=context,
            )
        else:
            return
        await self._execute(command)

    async def _execute(self, command: Any) -> None:
        try:
            await self._bus.execute(command)
        except DomainError as exc:
            log.info("hub %s report not recorded: %s", self._session.hub_id, exc)
