"""Authenticating a websocket upgrade: Authorization header or ?token=."""

from __future__ import annotations

import asyncio

from fastapi import WebSocket
from fastapi.responses import JSONResponse

from domain.principals.permissions import Principal
from infra.root.services import Hub


def hub_of(websocket: WebSocket) -> Hub:
    hub: Hub = websocket.app.state.hub
    return hub


def token_of(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return (
        websocket.headers.get("open-shock-token")
        or websocket.query_params.get("token")
        or websocket.query_params.get("access_token")
    )


async def authenticate_websocket(websocket: WebSocket) -> Principal | None:
    """The principal, or None after refusing the upgrade with 401."""
    token = token_of(websocket)
    principal = (
        await asyncio.to_thread(hub_of(websocket).authenticator.principal_for, token)
        if token
        else None
    )
    if principal is None:
        await refuse(websocket, 401, "missing or invalid token")
    return principal


async def refuse(websocket: WebSocket, status: int, detail: str) -> None:
    response = JSONResponse({"status": status, "detail": detail}, status_code=status)
    try:
        await websocket.send_denial_response(response)
    except RuntimeError:
        # The server lacks the denial-response extension: fall back to a close frame.
        await websocket.close(code=4000 + status, reason=detail)
