"""Authenticating a websocket upgrade: Authorization header or ?token=."""

from __future__ import annotations

import asyncio

from fastapi import WebSocket
from fastapi.responses import JSONResponse

from infra.identity.credentials import bearer_token
from infra.identity.session_credential import Authenticated
from infra.identity.token_authenticator import TokenAuthenticator


def token_of(websocket: WebSocket) -> str | None:
    return (
        bearer_token(websocket.headers.get("authorization"))
        or websocket.headers.get("open-shock-token")
        or websocket.query_params.get("token")
        or websocket.query_params.get("access_token")
    )


class WebSocketAuthenticator:
    def __init__(self, authenticator: TokenAuthenticator) -> None:
        self._authenticator = authenticator

    async def authenticate(self, websocket: WebSocket) -> Authenticated | None:
        """The principal and its credential, or None after refusing the upgrade with 401."""
        token = token_of(websocket)
        authenticated = (
            await asyncio.to_thread(self._authenticator.authenticate, token) if token else None
        )
        if authenticated is None:
            await refuse(websocket, 401, "missing or invalid token")
        return authenticated


async def refuse(websocket: WebSocket, status: int, detail: str) -> None:
    response = JSONResponse({"status": status, "detail": detail}, status_code=status)
    try:
        await websocket.send_denial_response(response)
    except RuntimeError:
        # The server lacks the denial-response extension: fall back to a close frame.
        await websocket.close(code=4000 + status, reason=detail)
