"""/app/{key}: the Pusher Channels websocket, as pusher-js (protocol 7) and Pysher (6) speak it.

The gateway is a plain ASGI handler put in front of the framework (`PusherSockets`): a
socket's handler stays on its stack for the socket's whole life, and the router, exception
and body-limit layers each kept frames, exit stacks and a copy of the scope per socket.
The handler reads the client's frames and acts on them at once; what the socket is sent
is written by its connection (connection.py). Refusals of the connection itself (unknown
key 4001, disabled app 4003, over the app's quota 4004, unsupported protocol 4007/4008)
follow an accepted upgrade, as Pusher's: a `pusher:error` with the code, then a close.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import secrets
import time
from dataclasses import dataclass

from starlette.datastructures import QueryParams
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.principals.permissions import Principal
from domain.pusher.apps import AppConfig, AppDirectory
from domain.pusher.client_events import SendPusherClientEvent
from gateways.pusher import protocol
from gateways.pusher.channels import ChannelRegistry
from gateways.pusher.connection import (
    CLIENT_LEFT,
    CLOSE_SECONDS,
    Ending,
    PendingWrites,
    PusherConnection,
)
from gateways.pusher.session import ClientEvent, PusherSession
from infra.command_bus import CommandBus
from infra.metrics import OPEN_CONNECTIONS
from infra.request_context import command_context

log = logging.getLogger(__name__)

# Room for the envelope (event name, channel, JSON syntax) around an event's data.
_ENVELOPE_BYTES = 1024


@dataclass(frozen=True)
class PusherGatewaySettings:
    # Advertised in connection_established; the server pings a socket silent this long.
    activity_timeout_seconds: float = protocol.ACTIVITY_TIMEOUT_SECONDS
    # After its ping, how long the server waits for any frame before closing with 4201.
    pong_timeout_seconds: float = 30.0
    # Bytes queued for one socket past which it is ended (4100) rather than slowing others.
    send_buffer_bytes: int = 1024 * 1024


class PusherGateway:
    def __init__(
        self,
        apps: AppDirectory,
        registry: ChannelRegistry,
        bus: CommandBus,
        settings: PusherGatewaySettings,
    ) -> None:
        self._apps = apps
        self._registry = registry
        self._bus = bus
        self._settings = settings
        self._sweeper: asyncio.Task[None] | None = None
        self._recording: set[asyncio.Task[None]] = set()
        self._pending_writes = PendingWrites()

    async def close_all(self) -> None:
        """Before the server stops: 4200 tells Pusher's clients to reconnect at once (to
        another node) rather than treat the dropped socket as a failure."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        for connection in self._registry.all_connections():
            connection.end(Ending(protocol.RECONNECT, "Server shutting down"))
        writers = [c.writer for c in self._registry.all_connections() if c.writer is not None]
        if writers:
            await asyncio.wait(writers, timeout=CLOSE_SECONDS)

    async def serve(self, scope: Scope, receive: Receive, send: Send, key: str) -> None:
        """One socket, from the upgrade request to its end. The read loop is written out
        here rather than in helpers: every coroutine frame on this stack lives as long as
        the socket does."""
        app = await self._admitted(scope, receive, send, key)
        if app is None:
            return
        self._start_sweeper()
        connection = PusherConnection(_socket_id(), app, self._settings.send_buffer_bytes)
        connection.deliver(
            protocol.connection_established(
                connection.socket_id, round(self._settings.activity_timeout_seconds)
            )
        )
        connection.attach(scope, send, self._pending_writes)
        self._registry.connect(connection)
        OPEN_CONNECTIONS.labels(gateway="pusher").inc()
        session = PusherSession(
            connection, self._registry, functools.partial(self._record_client_event, connection)
        )
        limit = app.limits.max_event_payload_bytes + _ENVELOPE_BYTES
        try:
            while (message := await receive())["type"] != "websocket.disconnect":
                payload = message.get("text")
                if payload is None:
                    payload = message.get("bytes") or b""
                if len(payload) > limit:
                    connection.heard()
                    connection.deliver(
                        protocol.error(
                            f"Message over {limit} bytes refused", protocol.CLIENT_EVENT_REJECTED
                        )
                    )
                else:
                    session.receive(payload)
        except asyncio.CancelledError:
            # The writer gave up on a close frame the client would not take (see
            # connection.py), or the server is stopping: either way the socket is done.
            current = asyncio.current_task()
            if connection.ending in (None, CLIENT_LEFT) or current is None:
                raise
            current.uncancel()
        finally:
            connection.end(CLIENT_LEFT)
            self._registry.disconnect(connection)
            OPEN_CONNECTIONS.labels(gateway="pusher").dec()

    async def _admitted(
        self, scope: Scope, receive: Receive, send: Send, key: str
    ) -> AppConfig | None:
        """Accepts the upgrade; the app it is for, or None once the socket was refused."""
        if (await receive())["type"] != "websocket.connect":
            return None
        try:
            await send({"type": "websocket.accept"})
        except OSError:
            return None
        try:
            # The directory reads the store for an app it does not hold yet.
            app = await asyncio.to_thread(self._apps.by_key, key)
        except Exception:
            log.exception("could not read the Pusher app of a connecting socket")
            await _refuse(send, protocol.RECONNECT, "Server unavailable, reconnect")
            return None
        version = QueryParams(scope.get("query_string", b"")).get("protocol")
        refusal = self._refusal(app, key, version)
        if refusal is not None or app is None:
            await _refuse(send, *(refusal or (protocol.UNKNOWN_APP, "Unknown app")))
            return None
        return app

    def _record_client_event(self, connection: PusherConnection, event: ClientEvent) -> None:
        """Client events go through the log, as triggers do: recorded, then fanned out to
        the channel's other subscribers by every node (this one included)."""
        assert connection.scope is not None
        socket = Principal(
            connection.socket_id, "pusher_socket", frozenset(), credential_id=connection.app.key
        )
        command = SendPusherClientEvent(
            context=command_context(HTTPConnection(connection.scope), socket),
            app_id=connection.app.app_id,
            channel=event.channel,
            name=event.name,
            data=event.data,
            socket_id=connection.socket_id,
            user_id=event.user_id,
        )
        task = asyncio.create_task(self._record(command, connection))
        self._recording.add(task)
        task.add_done_callback(self._recording.discard)

    async def _record(self, command: SendPusherClientEvent, connection: PusherConnection) -> None:
        try:
            await self._bus.execute(command)
        except Exception as failure:
            log.warning("a Pusher client event was not recorded: %s", failure)
            connection.deliver(
                protocol.error(
                    "Client event not sent: the server could not record it",
                    protocol.CLIENT_EVENT_REJECTED,
                )
            )

    def _refusal(
        self, app: AppConfig | None, key: str, version: str | None
    ) -> tuple[int, str] | None:
        if app is None:
            return protocol.UNKNOWN_APP, f"App key {protocol.quoted(key)} not in this cluster"
        if version is None:
            return protocol.NO_PROTOCOL, "No protocol version supplied"
        if version not in protocol.PROTOCOLS:
            return (
                protocol.UNSUPPORTED_PROTOCOL,
                f"Unsupported protocol version {protocol.quoted(version)}",
            )
        if not app.enabled:
            return protocol.APP_DISABLED, "Application is disabled"
        quota = app.limits.max_connections
        if quota is not None and self._registry.connection_count(app.app_id) >= quota:
            return protocol.OVER_QUOTA, "Application is over connection quota"
        return None

    def _start_sweeper(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name="pusher-activity")

    async def _sweep(self) -> None:
        """Pings sockets silent for the activity timeout and ends those that stay silent.

        One loop for the whole process rather than a timer per socket: an idle socket
        costs nothing but its last-seen time."""
        settings = self._settings
        interval = min(
            1.0, settings.activity_timeout_seconds / 4, settings.pong_timeout_seconds / 4
        )
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for connection in self._registry.all_connections():
                if connection.ping_sent_at is not None:
                    if now - connection.ping_sent_at >= settings.pong_timeout_seconds:
                        connection.end(
                            Ending(protocol.PONG_NOT_RECEIVED, "Pong reply not received")
                        )
                elif now - connection.last_seen >= settings.activity_timeout_seconds:
                    connection.ping_sent_at = now
                    connection.deliver(protocol.PING)


class PusherSockets:
    """ASGI middleware: /app/{key} websockets (also under the Pusher path prefix) go
    straight to the gateway; everything else to the framework."""

    def __init__(self, app: ASGIApp, gateway: PusherGateway, path_prefix: str = "") -> None:
        self._app = app
        self._gateway = gateway
        prefixes = "|".join(re.escape(p) for p in dict.fromkeys(("", path_prefix)))
        self._path = re.compile(f"(?:{prefixes})/app/([^/]+)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            match = self._path.fullmatch(scope["path"])
            if match is not None:
                await self._gateway.serve(scope, receive, send, match[1])
                return
        await self._app(scope, receive, send)


async def _refuse(send: Send, code: int, message: str) -> None:
    """Pusher's refusal of a connection: the error frame, then a close with its code."""
    # A close reason holds at most 123 bytes; the message may quote a non-ASCII key.
    reason = message.encode()[:120].decode(errors="ignore")
    with contextlib.suppress(Exception):
        await send({"type": "websocket.send", "text": protocol.error(message, code)})
        await send({"type": "websocket.close", "code": code, "reason": reason})


def _socket_id() -> str:
    return f"{secrets.randbelow(10**9)}.{secrets.randbelow(10**9)}"
