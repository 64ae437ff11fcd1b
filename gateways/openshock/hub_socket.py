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
Pong (online), latency when it moves or once a minute, boot status, OTA progress,
disconnected. What it is told comes from the log (projections/openshock_hub_deliveries.py)
through HubConnections, on whatever node holds it. Idle hubs cost no task of their own
beyond the one serving their socket: the timers are loop callbacks.
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

from fastapi import APIRouter, WebSocket
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
from gateways.openshock.refusals import refuse
from infra.command_bus import CommandBus
from infra.metrics import OPEN_CONNECTIONS
from infra.openshock.hub_tokens import HubTokens
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
    # An unchanged latency is recorded again after this long; a move of 20 % or 50 ms at once.
    latency_record_seconds: float = 60.0


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

    def router(self, path_prefix: str = "") -> APIRouter:
        router = APIRouter()

        async def current(websocket: WebSocket) -> None:
            await self._serve(websocket, 2)

        async def legacy(websocket: WebSocket) -> None:
            await self._serve(websocket, 1)

        router.add_api_websocket_route(path_prefix + CURRENT_PATH, current)
        router.add_api_websocket_route(path_prefix + LEGACY_PATH, legacy)
        return router

    async def _serve(self, websocket: WebSocket, schema: int) -> None:
        hub_id = await self._admitted(websocket)
        if hub_id is None:
            return
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
            token=hub_token_of(websocket) or "",
        )
        context = CommandContext(
            actor_id=str(hub_id),
            actor_kind="device",
            source_address=websocket.client.host if websocket.client else None,
        )
        talk = _Conversation(self._bus, session, context, self._settings)
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

    async def _admitted(self, websocket: WebSocket) -> UUID | None:
        token = hub_token_of(websocket)
        if token is None:
            await refuse(
                websocket,
                "Authentication.HeaderMissingOrInvalid",
                "Missing or invalid authentication header.",
                401,
            )
            return None
        hub_id = await asyncio.to_thread(self._tokens.hub_for, token)
        if hub_id is None:
            await refuse(websocket, "Authentication.TokenInvalid", "The token is invalid", 401)
        return hub_id


class _Conversation:
    """One session's frames in and the timers that keep it alive."""

    def __init__(
        self,
        bus: CommandBus,
        session: HubSession,
        context: CommandContext,
        settings: HubGatewaySettings,
    ) -> None:
        self._bus = bus
        self._session = session
        self._context = context
        self._settings = settings
        self._loop = asyncio.get_running_loop()
        self._ping_timer: asyncio.TimerHandle | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._ping_sent_at: float | None = None
        self._recorded_latency: int | None = None
        self._latency_recorded_at = 0.0
        self._reports: list[float] = []

    def start(self) -> None:
        if self._session.schema == 2:
            self._ping_timer = self._loop.call_later(self._settings.first_ping_seconds, self._ping)
        self._deadline = self._loop.call_later(
            self._settings.first_keep_alive_seconds, self._timed_out
        )

    def stop(self) -> None:
        for timer in (self._ping_timer, self._deadline):
            if timer is not None:
                timer.cancel()

    def _ping(self) -> None:
        self._ping_sent_at = time.monotonic()
        self._session.send(hub_frames.ping(int(time.time())))
        self._ping_timer = self._loop.call_later(self._settings.ping_every_seconds, self._ping)

    def _timed_out(self) -> None:
        self._session.end(1002, "Keep alive timeout reached")

    def _kept_alive(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self._loop.call_later(self._settings.keep_alive_seconds, self._timed_out)

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
        moved = last is None or abs(latency_ms - last) >= max(50, last // 5)
        if not moved and now - self._latency_recorded_at < self._settings.latency_record_seconds:
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
        self._reports = [t for t in self._reports if now - t < 10.0]
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
