"""Live websocket sessions end with their credentials (issue 9, defect 5).

Revoking an API token closes the /api/v1/ws sessions opened with it (close code 4401);
revoking an OAuth grant closes its SignalR sessions (a Close message) and its /api/v1/ws
sessions; a session ends when its access token expires. Distributed, the
sessions live on a second node and the revocation is made through the first.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.server import Server
from tests.e2e.test_senz_change_notifications import RS, raw_session, subscribe

PASSWORD = "correct horse battery staple"
UNAUTHORIZED = 4401
# Short enough to wait for, long enough for the revocation tests to finish well before.
TOKEN_LIFETIME_SECONDS = 20
# How soon after a revocation its sessions must have ended (the re-check runs every second).
WITHIN_SECONDS = 5.0


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    # One issuer for every node (behind one public address), so each accepts the other's tokens.
    env = {
        "HUBLINE_ISSUER": "https://hubline.test",
        "HUBLINE_ACCESS_TOKEN_LIFETIME_SECONDS": str(TOKEN_LIFETIME_SECONDS),
    }
    with running_stack(tmp_path_factory.mktemp(request.param), request.param, env) as stack:
        yield stack


@pytest.fixture(scope="module")
def far(hub: Stack) -> Stack | Server:
    """Where the sessions are opened: distributed, not the node the revocation goes through."""
    return hub.add_server() if hub.kind == "distributed" else hub


def sign_in(hub: Stack, role: str = "user") -> dict[str, str]:
    """A new user's access token (password grant), and the client that holds it."""
    email = f"session-{uuid.uuid4().hex[:8]}@example.com"
    hub.cli(
        "users", "create", "--email", email, "--name", "S", "--role", role, stdin=PASSWORD + "\n"
    )
    client = json.loads(
        hub.cli(
            "clients",
            "create",
            "--name",
            "sessions",
            "--grant-types",
            "password",
            "--scopes",
            "openid restapi",
        ).stdout
    )
    with OAuth2Client(client["client_id"], client["client_secret"]) as oauth:
        token = oauth.fetch_token(
            f"{hub.url}/connect/token", username=email, password=PASSWORD, scope="openid restapi"
        )
    return {
        "token": token["access_token"],
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }


def api_token(hub: Stack, owner: dict[str, str]) -> dict[str, Any]:
    created = httpx.post(
        f"{hub.url}/api/v1/tokens",
        json={"name": "integration", "permissions": ["deviceAuth:read"]},
        headers={"Authorization": f"Bearer {owner['token']}"},
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def alive(ws: ClientConnection) -> bool:
    ws.send('{"type":"PING"}')
    while True:
        try:
            frame = json.loads(ws.recv(timeout=10))
        except ConnectionClosed:
            return False
        if frame == {"type": "PONG"}:
            return True


def closed_code(ws: ClientConnection, within: float) -> tuple[int, str, float]:
    """The close code, reason and time of a server close; other frames are skipped."""
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the session is still open")
        try:
            ws.recv(timeout=left)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "closed without a close frame"
            return closed.rcvd.code, closed.rcvd.reason, time.time()
        except TimeoutError as late:
            raise AssertionError("the session is still open") from late


def signalr_close(ws: ClientConnection, within: float) -> tuple[dict[str, Any], float]:
    """SignalR's Close message and when it came; pings are skipped."""
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no Close message")
        try:
            text = ws.recv(timeout=left)
        except TimeoutError as late:
            raise AssertionError("no Close message") from late
        for part in str(text).split(RS):
            message = json.loads(part) if part else {}
            if message.get("type") == 7:
                return message, time.time()


def test_revoking_an_api_token_closes_its_event_sessions(hub: Stack, far: Stack | Server) -> None:
    owner = sign_in(hub, "admin")
    revoked, kept = api_token(hub, owner), api_token(hub, owner)
    with (
        connect(f"{far.ws_url}/api/v1/ws?token={revoked['token']}") as ws,
        connect(f"{far.ws_url}/api/v1/ws?token={kept['token']}") as other,
    ):
        assert alive(ws) and alive(other)
        deleted = httpx.delete(
            f"{hub.url}/api/v1/tokens/{revoked['id']}",
            headers={"Authorization": f"Bearer {owner['token']}"},
        )
        assert deleted.status_code == 204
        code, reason, _ = closed_code(ws, WITHIN_SECONDS)
        assert (code, reason) == (UNAUTHORIZED, "Unauthorized: credential revoked")
        assert alive(other)
    # And it cannot come back.
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{far.ws_url}/api/v1/ws?token={revoked['token']}")
    assert refused.value.response.status_code == 401


def test_revoking_a_grant_closes_its_signalr_and_event_sessions(
    hub: Stack, far: Stack | Server
) -> None:
    user, bystander = sign_in(hub), sign_in(hub)
    with (
        raw_session(far, user["token"]) as (signalr, _, _),
        raw_session(far, bystander["token"]) as (other, _, _),
        connect(f"{far.ws_url}/api/v1/ws?token={user['token']}") as events,
    ):
        subscribe(signalr, ["1", "2"])
        subscribe(other, ["1", "2"])
        assert alive(events)
        revoked = httpx.post(
            f"{hub.url}/connect/revocation",
            data={"token": user["token"], "token_type_hint": "access_token"},
            auth=(user["client_id"], user["client_secret"]),
        )
        assert revoked.status_code == 200
        close, _ = signalr_close(signalr, WITHIN_SECONDS)
        assert close == {"type": 7, "error": "Unauthorized: credential revoked"}
        with pytest.raises(ConnectionClosed):
            signalr.recv(timeout=5)
        code, reason, _ = closed_code(events, WITHIN_SECONDS)
        assert (code, reason) == (UNAUTHORIZED, "Unauthorized: credential revoked")
        # Another user's session goes on.
        subscribe(other, ["2"])


def test_sessions_end_when_their_access_token_expires(hub: Stack, far: Stack | Server) -> None:
    """(An API token's expiry, in days, ends its sessions the same way: see
    tests/integration/test_session_credentials.py and tests/unit/gateways/test_live_sessions.py.)"""
    user = sign_in(hub)
    exp = float(jwt.decode(user["token"], options={"verify_signature": False})["exp"])
    with (
        raw_session(far, user["token"]) as (signalr, _, _),
        connect(f"{far.ws_url}/api/v1/ws?token={user['token']}") as by_access_token,
    ):
        subscribe(signalr, ["2"])
        assert alive(by_access_token)
        close, at = signalr_close(signalr, exp - time.time() + WITHIN_SECONDS)
        assert close == {"type": 7, "error": "Unauthorized: credential expired"}
        # At the token's expiry, not before (exp is in whole seconds).
        assert exp - 0.05 <= at < exp + 2, (exp, at)
        code, reason, _ = closed_code(by_access_token, WITHIN_SECONDS)
        assert (code, reason) == (UNAUTHORIZED, "Unauthorized: credential expired")
