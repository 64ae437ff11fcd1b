"""A SignalR server for ASP.NET Core SignalR clients: negotiate, WebSockets, JSON hub protocol.

Hubs are declared once (path, methods, who may connect) and served at their path and its
`/negotiate`. Negotiate version 0 (connectionId only: signalrcore, pysignalr) and 1
(connectionId + connectionToken: @microsoft/signalr) are both answered; the websocket
accepts `id` = either, or no id at all (skipNegotiation). A connection ends with a Close
message ("Unauthorized: credential revoked" or "… expired") when its token is revoked or
expires, as ASP.NET Core's CloseOnAuthenticationExpiration does.

Who connects is the server's bearer-token check unless a hub brings its own (`Hub.authenticate`,
given the request: headers, cookies, query, path parameters), which may let anonymous
callers in (a credential that never expires and is not revocable) or refuse with a status
of its choosing (`HubRefused`) before the upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from starlette.requests import HTTPConnection

from domain.principals.permissions import Principal
from gateways.live_sessions import LiveSessions
from gateways.signalr import messagepack, protocol
from gateways.signalr.protocol import MessageType, ProtocolError
from infra.identity.credentials import bearer_token
from infra.identity.session_credential import Authenticated
from infra.metrics import OPEN_CONNECTIONS

log = logging.getLogger(__name__)

KEEP_ALIVE_SECONDS = 15.0
CLIENT_TIMEOUT_SECONDS = 30.0
HANDSHAKE_TIMEOUT_SECONDS = 15.0
NEGOTIATION_TTL_SECONDS = 60.0

HubMethod = Callable[["HubConnection", list[Any]], Awaitable[Any]]
Authenticator = Callable[[str], Awaitable[Authenticated | None]]
# A hub's own check of the request (negotiate or upgrade); None: 401.
ConnectionAuthenticator = Callable[[HTTPConnection], Awaitable[Authenticated | None]]


class HubRefused(Exception):
    """Raised by a hub's authenticate: refuse the negotiate or the upgrade with `status`."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass(eq=False)  # compared and hashed by identity: hubs keep sets of connections
class HubConnection:
    """One client's connection to one hub; hubs keep their per-connection state in `items`."""

    connection_id: str
    principal: Principal
    websocket: WebSocket
    items: dict[str, Any] = field(default_factory=dict)
    # Chosen in the handshake: "json" (text frames) or "messagepack" (binary frames).
    protocol_name: str = "json"
    _send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _ended: bool = False

    @property
    def path_params(self) -> dict[str, Any]:
        return dict(self.websocket.path_params)

    @property
    def query_params(self) -> dict[str, str]:
        return dict(self.websocket.query_params)

    @property
    def binary(self) -> bool:
        return self.protocol_name == "messagepack"

    async def send(self, payload: str | bytes) -> None:
        async with self._send_lock:
            if self._ended:
                # As if the client had left: the hub loop ends the way it does then.
                raise WebSocketDisconnect(1000)
            await self._send_now(payload)

    async def end(self, last_message: str | bytes) -> None:
        """Send a last message (Close, or a handshake error) and close the socket, once."""
        async with self._send_lock:
            if self._ended:
                return
            self._ended = True
            with contextlib.suppress(Exception):
                await self._send_now(last_message)
                await self.websocket.close()

    async def _send_now(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            await self.websocket.send_bytes(payload)
        else:
            await self.websocket.send_text(payload)

    async def invoke(self, target: str, *arguments: Any) -> None:
        codec = messagepack if self.binary else protocol
        await self.send(codec.invocation(target, list(arguments)))

    async def complete(
        self, invocation_id: str, result: Any = None, error: str | None = None
    ) -> None:
        codec = messagepack if self.binary else protocol
        await self.send(codec.completion(invocation_id, result=result, error=error))

    async def ping(self) -> None:
        await self.send(messagepack.PING if self.binary else protocol.PING)

    def close_message(self, error: str | None, allow_reconnect: bool = False) -> str | bytes:
        if self.binary:
            return messagepack.close(error, allow_reconnect=allow_reconnect)
        return protocol.close(error, allow_reconnect=allow_reconnect)

    def parse(self, payload: str | bytes) -> list[dict[str, Any]]:
        if self.binary:
            if isinstance(payload, str):
                raise ProtocolError("the MessagePack protocol sends binary frames")
            return messagepack.parse_frames(payload)
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
        return protocol.parse_frames(text)


@dataclass
class Hub:
    path: str
    methods: dict[str, HubMethod]
    on_connected: Callable[[HubConnection], Awaitable[None]] | None = None
    on_disconnected: Callable[[HubConnection], Awaitable[None]] | None = None
    # None: the server's bearer-token check.
    authenticate: ConnectionAuthenticator | None = None


@dataclass
class _Negotiation:
    connection_id: str
    principal: Principal
    created: float
    used: bool = False


class HubServer:
    def __init__(self, authenticate: Authenticator | None, sessions: LiveSessions) -> None:
        self._authenticate = authenticate
        self._sessions = sessions
        self._negotiations: dict[str, _Negotiation] = {}
        self._connections: set[HubConnection] = set()

    async def close_all(self) -> None:
        """Before the server stops: tell every client it may reconnect (to another node),
        as ASP.NET Core does on shutdown, rather than let its socket just drop."""
        goodbye = [
            connection.end(connection.close_message(None, allow_reconnect=True))
            for connection in list(self._connections)
        ]
        await asyncio.gather(*goodbye)

    def router_for(self, hub: Hub, *paths: str) -> APIRouter:
        router = APIRouter(tags=["SignalR"])
        methods = {name.lower(): method for name, method in hub.methods.items()}
        for path in paths or (hub.path,):
            self._add_routes(router, path, hub, methods)
        return router

    def _add_routes(
        self, router: APIRouter, path: str, hub: Hub, methods: dict[str, HubMethod]
    ) -> None:
        async def negotiate(request: Request) -> Response:
            try:
                authenticated = await self._authenticated(hub, request)
            except HubRefused as refused:
                return Response(status_code=refused.status)
            if authenticated is None:
                return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
            principal = authenticated.principal
            version = request.query_params.get("negotiateVersion", "0")
            self._forget_stale()
            connection_id = secrets.token_urlsafe(16)
            body: dict[str, Any] = {
                "connectionId": connection_id,
                "availableTransports": [
                    {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}
                ],
            }
            negotiation = _Negotiation(connection_id, principal, time.monotonic())
            if version == "1":
                token = secrets.token_urlsafe(24)
                body |= {"negotiateVersion": 1, "connectionToken": token}
                self._negotiations[token] = negotiation
            else:
                body["negotiateVersion"] = 0
            self._negotiations[connection_id] = negotiation
            return JSONResponse(body)

        async def socket(websocket: WebSocket) -> None:
            await self._serve(websocket, hub, methods)

        # The handler reads its path parameters from the request: OpenAPI is told of them.
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", path)
        ]
        router.add_api_route(
            f"{path}/negotiate",
            negotiate,
            methods=["POST"],
            openapi_extra={"parameters": parameters} if parameters else None,
        )
        router.add_api_websocket_route(path, socket)

    async def _authenticated(self, hub: Hub, connection: HTTPConnection) -> Authenticated | None:
        if hub.authenticate is not None:
            return await hub.authenticate(connection)
        if self._authenticate is None:
            return None
        # Browsers cannot set headers on websockets: @microsoft/signalr sends access_token,
        # SENZ's sample sends token.
        query = connection.query_params
        token = (
            bearer_token(connection.headers.get("authorization"))
            or query.get("access_token")
            or query.get("token")
        )
        return await self._authenticate(token) if token else None

    def _forget_stale(self) -> None:
        cutoff = time.monotonic() - NEGOTIATION_TTL_SECONDS
        for key in [k for k, n in self._negotiations.items() if n.created < cutoff]:
            del self._negotiations[key]

    async def _serve(self, websocket: WebSocket, hub: Hub, methods: dict[str, HubMethod]) -> None:
        try:
            authenticated = await self._authenticated(hub, websocket)
        except HubRefused as refused:
            await _refuse(websocket, refused.status)
            return
        if authenticated is None:
            await _refuse(websocket, 401)
            return
        connection_id = websocket.query_params.get("id")
        if connection_id is not None:
            negotiation = self._negotiations.get(connection_id)
            if negotiation is None:
                await _refuse(websocket, 404)
                return
            if negotiation.used:
                await _refuse(websocket, 409)
                return
            negotiation.used = True
            connection_id = negotiation.connection_id
        else:
            connection_id = secrets.token_urlsafe(16)  # skipNegotiation
        await websocket.accept()
        connection = HubConnection(connection_id, authenticated.principal, websocket)
        OPEN_CONNECTIONS.labels(gateway=f"signalr:{hub.path}").inc()

        async def unauthorized(reason: str) -> None:
            await connection.end(connection.close_message(f"Unauthorized: {reason}"))

        session = self._sessions.open(authenticated.credential, unauthorized)
        try:
            if not await _handshake(connection):
                return
            self._connections.add(connection)
            if hub.on_connected is not None:
                await hub.on_connected(connection)
            await _run(connection, methods)
        except WebSocketDisconnect:
            pass
        finally:
            self._sessions.close(session)
            self._connections.discard(connection)
            OPEN_CONNECTIONS.labels(gateway=f"signalr:{hub.path}").dec()
            if hub.on_disconnected is not None:
                await hub.on_disconnected(connection)


async def _refuse(websocket: WebSocket, status: int) -> None:
    try:
        await websocket.send_denial_response(Response(status_code=status))
    except RuntimeError:
        await websocket.close(code=1008)


async def _handshake(connection: HubConnection) -> bool:
    try:
        text = await asyncio.wait_for(
            _receive_text(connection.websocket), HANDSHAKE_TIMEOUT_SECONDS
        )
        request = protocol.parse_frames(text)[0]
    except (TimeoutError, ProtocolError, IndexError):
        await connection.end(protocol.handshake_error("The handshake request was not valid."))
        return False
    # As ASP.NET Core does, any version up to ours is accepted (signalrcore sends 0).
    version = request.get("version")
    name = request.get("protocol")
    if name not in ("json", "messagepack") or not isinstance(version, int) or not 0 <= version <= 1:
        await connection.end(
            protocol.handshake_error(
                f"The protocol '{protocol.shown(name)}' version {protocol.shown(version)}"
                " is not supported; use json version 1."
            ),
        )
        return False
    connection.protocol_name = str(name)
    await connection.send(protocol.HANDSHAKE_OK)  # the handshake itself is always JSON text
    return True


async def _run(connection: HubConnection, methods: dict[str, HubMethod]) -> None:
    keep_alive = asyncio.create_task(_keep_alive(connection))
    try:
        while True:
            try:
                payload = await asyncio.wait_for(
                    _receive(connection.websocket), CLIENT_TIMEOUT_SECONDS
                )
            except TimeoutError:
                await connection.end(
                    connection.close_message("Server timeout elapsed without a message.")
                )
                return
            try:
                messages = connection.parse(payload)
            except ProtocolError as exc:
                await connection.end(connection.close_message(f"Protocol error: {exc}"))
                return
            for message in messages:
                if message.get("type") == MessageType.CLOSE:
                    # The client's Close is answered with the websocket's closing handshake,
                    # not a dropped TCP connection.
                    with contextlib.suppress(Exception):
                        await connection.websocket.close()
                    return
                await _dispatch(connection, methods, message)
    finally:
        keep_alive.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keep_alive


async def _dispatch(
    connection: HubConnection, methods: dict[str, HubMethod], message: dict[str, Any]
) -> None:
    kind = message.get("type")
    if kind == MessageType.PING:
        return
    if kind != MessageType.INVOCATION:
        invocation_id = message.get("invocationId")
        if isinstance(invocation_id, str):
            await connection.complete(invocation_id, error="Only invocations are supported.")
        return
    invocation_id = message.get("invocationId")
    target = message.get("target")
    arguments = message.get("arguments", [])
    method = methods.get(target.lower()) if isinstance(target, str) else None
    error: str | None = None
    result: Any = None
    if method is None:
        error = f"Unknown hub method '{protocol.shown(target)}'"
    elif not isinstance(arguments, list):
        error = "arguments must be a list"
    else:
        try:
            result = await method(connection, arguments)
        except HubError as exc:
            error = str(exc)
        except Exception:
            log.exception("hub method %s failed", target)
            error = f"An unexpected error occurred invoking '{target}' on the server."
    # Without an invocationId the caller wants no answer (fire and forget).
    if isinstance(invocation_id, str):
        await connection.complete(invocation_id, result=result, error=error)


class HubError(Exception):
    """Raised by hub methods: the message goes back to the caller in the completion."""


async def _keep_alive(connection: HubConnection) -> None:
    while True:
        await asyncio.sleep(KEEP_ALIVE_SECONDS)
        try:
            await connection.ping()
        except Exception:
            return


async def _receive(websocket: WebSocket) -> str | bytes:
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    if message.get("text") is not None:
        return str(message["text"])
    return bytes(message.get("bytes") or b"")


async def _receive_text(websocket: WebSocket) -> str:
    payload = await _receive(websocket)
    return payload if isinstance(payload, str) else payload.decode("utf-8", errors="replace")
