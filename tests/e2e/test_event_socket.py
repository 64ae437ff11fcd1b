"""DEVICE_AUTH_UPDATE over /api/v1/ws, to exactly the principals allowed to read it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import Stack
from tests.e2e.device_client import connect_device
from tests.keys import make_key


def device_id() -> str:
    return f"EV-{uuid.uuid4().hex[:10]}".upper()


def updates_for(conn: ClientConnection, identifier: str, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while len(found) < count:
        frame = json.loads(conn.recv(timeout=20))
        if frame.get("deviceIdentifier") == identifier:
            found.append(frame)
    return found


@pytest.fixture(scope="module")
def writer(stack: Stack) -> dict[str, str]:
    return stack.auth()


def test_every_change_is_pushed_to_readers(stack: Stack, writer: dict[str, str]) -> None:
    identifier = device_id()
    key = make_key("ecdsa-p256")
    reader = stack.token("deviceAuth:read")
    with connect(
        f"{stack.ws_url}/api/v1/ws", additional_headers={"Authorization": f"Bearer {reader}"}
    ) as ws:
        with httpx.Client(base_url=stack.url, headers=writer, timeout=30) as http:
            http.post(f"/api/v1/deviceauth/{identifier}", json={"publicKey": key.pem})
            assert connect_device(stack.ws_url, identifier, key).accepted
            http.delete(f"/api/v1/deviceauth/{identifier}")
        set_, passed, cleared = updates_for(ws, identifier, 3)
    assert set_ | {"position": 0} == {
        "type": "DEVICE_AUTH_UPDATE",
        "deviceIdentifier": identifier,
        "publicKey": key.pem,
        "unknown": True,
        "position": 0,
    }
    assert passed["unknown"] is False and passed["publicKey"] == key.pem
    assert cleared["unknown"] is True and "publicKey" not in cleared
    assert set_["position"] < passed["position"] < cleared["position"]


def test_unknown_device_attempt_is_pushed(stack: Stack) -> None:
    identifier = device_id()
    reader = stack.token("deviceAuth:read")
    with connect(f"{stack.ws_url}/api/v1/ws?token={reader}") as ws:
        assert not connect_device(stack.ws_url, identifier, None).accepted
        (update,) = updates_for(ws, identifier, 1)
    assert update["unknown"] is True


def test_principals_without_read_permission_hear_nothing(
    stack: Stack, writer: dict[str, str]
) -> None:
    auditor = stack.token("audit:read")
    reader = stack.token("deviceAuth:read")
    identifier = device_id()
    with (
        connect(f"{stack.ws_url}/api/v1/ws?token={auditor}") as quiet,
        connect(f"{stack.ws_url}/api/v1/ws?token={reader}") as loud,
    ):
        httpx.post(
            f"{stack.url}/api/v1/deviceauth/{identifier}", json={"publicKey": "x"}, headers=writer
        )
        updates_for(loud, identifier, 1)
        quiet.send('{"type":"PING"}')
        assert json.loads(quiet.recv(timeout=10)) == {"type": "PONG"}


def test_resume_after_a_position_replays_what_was_missed(
    stack: Stack, writer: dict[str, str]
) -> None:
    identifier = device_id()
    reader = stack.token("deviceAuth:read")
    with httpx.Client(base_url=stack.url, headers=writer, timeout=30) as http:
        http.post(f"/api/v1/deviceauth/{identifier}", json={"publicKey": "first"})
        with connect(f"{stack.ws_url}/api/v1/ws?token={reader}&after=0") as ws:
            (first,) = updates_for(ws, identifier, 1)
        http.post(f"/api/v1/deviceauth/{identifier}", json={"publicKey": "second"})
    with connect(f"{stack.ws_url}/api/v1/ws?token={reader}&after={first['position']}") as ws:
        (second,) = updates_for(ws, identifier, 1)
    assert second["publicKey"] == "second"


def test_bad_token_and_bad_frames(stack: Stack) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.ws_url}/api/v1/ws?token=hbl_nope")
    assert refused.value.response.status_code == 401
    reader = stack.token("deviceAuth:read")
    with connect(f"{stack.ws_url}/api/v1/ws?token={reader}") as ws:
        ws.send("{not json")
        assert json.loads(ws.recv(timeout=10))["type"] == "ERROR"
        ws.send(b"\x00\x01")
        assert json.loads(ws.recv(timeout=10))["type"] == "ERROR"
        ws.send('{"type":"PING"}')
        assert json.loads(ws.recv(timeout=10)) == {"type": "PONG"}
