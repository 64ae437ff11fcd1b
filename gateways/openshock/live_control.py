"""OpenShock live control: /1/ws/live/{hubId}?tps=1..10, JSON frames that drive a hub's
shockers continuously (wire format: live_frames.py; rules: domain/openshock/live_control.py).

Before the upgrade, as the real gateway checks them, each refusal in OpenShock's problem
format: a credential (401), the token's shockers.use (403), a hub the caller owns or holds a
live share on (404 Websocket.LiveControl.HubNotFound), a hub online on any node (404
HubNotConnected: every node serves the gateway and ticks travel through the log). Then TPS
and DeviceConnected; a Ping every 5 s, LatencyAnnounce after each Pong; each frame's refusal
as its own message. The session ends with DeviceNotConnected when the hub goes offline, with
1007 on a message that is not the protocol's JSON, with 1009 past 512,000 bytes, and with
1008 when its credential is revoked or expires (gateways/live_sessions.py).

The accepted socket is a LiveSocket (live_session.py); accepted frames only mark their
shocker active in this node's LiveHubs (live_ticks.py), whose per-hub loop records the ticks.
"""

from __future__ import annotations

import contextlib
import logging
import time
from uuid import UUID

from fastapi import APIRouter, WebSocket
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection

from domain.errors import ViewsBehind
from domain.openshock.live_control import clamped_tps
from domain.openshock.values import Permission
from gateways.live_sessions import LiveSessions
from gateways.openshock.live_session import Clock, LiveSocket
from gateways.openshock.live_ticks import LiveHubs
from gateways.openshock.refusals import refuse
from gateways.openshock.socket_auth import OpenShockSocketAuth, SocketCaller
from infra.metrics import OPEN_CONNECTIONS
from infra.openshock.presented_credentials import api_token_of
from infra.openshock.problems import PROBLEM_JSON, problem_body, request_id_of
from infra.store.view_reader import ViewReader
from projections.openshock_hub_link_view import hub_statuses
from projections.openshock_live_access import LIVE_ACCESS_VIEWS, LiveAccess, live_access

log = logging.getLogger(__name__)

PATH = "/1/ws/live/{hub_id}"
_HUB_VIEWS = (*LIVE_ACCESS_VIEWS, "openshock_hub_links")


def live_control_gateway(
    auth: OpenShockSocketAuth,
    views: ViewReader,
    hubs: LiveHubs,
    sessions: LiveSessions,
    prefix: str = "",
    clock: Clock = time.time,
) -> APIRouter:
    """`prefix`: the gateway URL's path prefix, which clients put before /1/ws/live."""
    router = APIRouter()

    @router.get(prefix + PATH, include_in_schema=False)
    async def not_a_websocket(request: HTTPConnection, hub_id: str) -> JSONResponse:
        return _not_a_websocket(request)

    @router.websocket(prefix + PATH)
    async def live_socket(websocket: WebSocket, hub_id: str) -> None:
        try:
            admitted = await _admit(websocket, hub_id, auth, views)
        except Exception as exc:
            # The store or the views did not answer: the client may try again.
            log.warning("live control for hub %s not admitted: %s", hub_id[:64], exc)
            with contextlib.suppress(Exception):  # the client may have left already
                await refuse(websocket, "Service.Unavailable", "The service is unavailable", 503)
            return
        if admitted is None:
            return
        caller, access = admitted
        tps_values = websocket.query_params.getlist("tps")
        tps = clamped_tps(tps_values[0] if len(tps_values) == 1 else None)
        try:
            await websocket.accept()
        except Exception:
            return  # the client left during the checks
        session = LiveSocket(websocket, caller, access, tps, hubs, views, clock)
        OPEN_CONNECTIONS.labels(gateway="openshock_live").inc()
        watched = sessions.open(caller.credential, session.credential_ended)
        try:
            await session.serve()
        finally:
            sessions.close(watched)
            OPEN_CONNECTIONS.labels(gateway="openshock_live").dec()

    return router


async def _admit(
    websocket: WebSocket, raw_hub_id: str, auth: OpenShockSocketAuth, views: ViewReader
) -> tuple[SocketCaller, LiveAccess] | None:
    """The caller and their access, or None after refusing the upgrade."""
    try:
        hub_id = str(UUID(raw_hub_id)) if len(raw_hub_id) <= 64 else None
    except ValueError:
        hub_id = None
    if hub_id is None:
        # The real gateway routes GUIDs only: anything else is no endpoint at all.
        await refuse(websocket, "Request.NotFound", "No such endpoint", 404)
        return None
    caller = await auth.user(websocket)
    if caller is None:
        await _refuse_credential(websocket, auth)
        return None
    token = caller.caller.token
    if token is not None and Permission.SHOCKERS_USE.value not in token.permissions:
        await refuse(
            websocket,
            "Authorization.Token.PermissionMissing",
            "You do not have the required permission to access this endpoint",
            403,
            f"You do not have the required permission {Permission.SHOCKERS_USE.value}",
            {
                "requiredPermission": Permission.SHOCKERS_USE.value,
                "grantedPermissions": sorted(token.permissions),
            },
        )
        return None
    try:
        await views.fresh_views(*_HUB_VIEWS)
        access = await views.query(live_access, str(caller.caller.user_id), hub_id)
        statuses = await views.query(hub_statuses, [hub_id])
    except ViewsBehind:
        await refuse(
            websocket, "Service.Unavailable", "The service is busy, try again shortly", 503
        )
        return None
    if access is None or not access.may_open:
        await refuse(
            websocket,
            "Websocket.LiveControl.HubNotFound",
            "Hub was not found or you are missing access",
            404,
        )
        return None
    if not any(status.online for status in statuses):
        await refuse(
            websocket,
            "Websocket.LiveControl.HubNotConnected",
            "The requested Hub is not connected to this gateway",
            404,
        )
        return None
    return caller, access


async def _refuse_credential(websocket: WebSocket, auth: OpenShockSocketAuth) -> None:
    if not auth.presents_credential(websocket):
        type_, title = (
            "Authentication.HeaderMissingOrInvalid",
            "Missing or invalid authentication header.",
        )
    elif api_token_of(websocket) is not None:
        type_, title = "Authentication.TokenInvalid", "The token is invalid"
    else:
        type_, title = "Authentication.SessionInvalid", "The session is invalid"
    await refuse(websocket, type_, title, 401)


def _not_a_websocket(connection: HTTPConnection) -> JSONResponse:
    title = "This request is not a websocket request"
    body = problem_body("Websocket.NonWebsocketRequest", title, 400, request_id_of(connection))
    return JSONResponse(body, status_code=400, media_type=PROBLEM_JSON)
