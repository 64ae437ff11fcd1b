"""Devices connecting through the DeviceAuth challenge, and every way it refuses them."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Stack, build_stack
from tests.e2e.device_client import connect_device, device_session
from tests.keys import SUPPORTED_KINDS, make_key


def device_id() -> str:
    return f"GW-{uuid.uuid4().hex[:10]}".upper()


@pytest.fixture(scope="module")
def headers(stack: Stack) -> dict[str, str]:
    return stack.auth()


def register(stack: Stack, headers: dict[str, str], identifier: str, public_key: str) -> None:
    response = httpx.post(
        f"{stack.url}/api/v1/deviceauth/{identifier}",
        json={"publicKey": public_key},
        headers=headers,
    )
    assert response.status_code == 204, response.text


def information(stack: Stack, headers: dict[str, str], identifier: str) -> dict[str, object]:
    response = httpx.get(f"{stack.url}/api/v1/deviceauth/{identifier}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_each_key_type_passes_the_challenge(
    stack: Stack, headers: dict[str, str], kind: str
) -> None:
    identifier = device_id()
    key = make_key(kind)
    register(stack, headers, identifier, key.b64_pem)
    verdict = connect_device(stack.ws_url, identifier.lower(), key)
    assert verdict.accepted, verdict.frames
    challenge = verdict.challenge
    assert challenge is not None
    assert len(base64.b64decode(challenge["challenge"])) >= 32
    assert challenge["expiresAt"].endswith("Z")
    assert information(stack, headers, identifier) == {"publicKey": key.b64_pem, "unknown": False}


def test_session_stays_open_after_acceptance(stack: Stack, headers: dict[str, str]) -> None:
    identifier = device_id()
    key = make_key("ed25519")
    register(stack, headers, identifier, key.pem)
    with device_session(stack.ws_url, identifier, key) as session:
        session.send("not json")
        assert json.loads(session.recv(timeout=5))["type"] == "ERROR"
        session.send('{"type":"PING"}')
        assert json.loads(session.recv(timeout=5)) == {"type": "PONG"}


def test_wrong_key_signature_is_rejected(stack: Stack, headers: dict[str, str]) -> None:
    identifier = device_id()
    register(stack, headers, identifier, make_key("ecdsa-p256").pem)
    verdict = connect_device(stack.ws_url, identifier, make_key("ecdsa-p256"))
    assert not verdict.accepted
    assert verdict.close_code == 4401
    assert "signature" in verdict.reason
    assert information(stack, headers, identifier)["unknown"] is True


def test_replayed_challenge_response_is_rejected(stack: Stack, headers: dict[str, str]) -> None:
    identifier = device_id()
    key = make_key("ecdsa-secp256k1")
    register(stack, headers, identifier, key.pem)
    recorded: list[str] = []

    def record(challenge: bytes) -> str:
        frame = json.dumps(
            {
                "type": "DEVICE_AUTH_RESPONSE",
                "signature": base64.b64encode(key.sign(challenge)).decode(),
            }
        )
        recorded.append(frame)
        return frame

    assert connect_device(stack.ws_url, identifier, None, answer=record).accepted
    # An eavesdropper replays the recorded answer on a new connection.
    replay = connect_device(stack.ws_url, identifier, None, answer=lambda _: recorded[0])
    assert not replay.accepted
    assert replay.close_code == 4401


def test_device_without_key_is_refused_and_listed_unknown(
    stack: Stack, headers: dict[str, str]
) -> None:
    identifier = device_id()
    verdict = connect_device(stack.ws_url, identifier, make_key("ed25519"))
    assert not verdict.accepted
    assert verdict.challenge is None
    assert "no public key" in verdict.reason
    listed = httpx.get(f"{stack.url}/api/v1/deviceauth?depth=1", headers=headers).json()
    assert {"deviceIdentifier": identifier, "information": {"unknown": True}} in listed


def test_unsupported_curve_is_refused_with_reason(stack: Stack, headers: dict[str, str]) -> None:
    identifier = device_id()
    key = make_key("ecdsa-p384")
    register(stack, headers, identifier, key.pem)
    verdict = connect_device(stack.ws_url, identifier, key)
    assert not verdict.accepted
    assert "not usable" in verdict.reason
    assert information(stack, headers, identifier)["unknown"] is True


@pytest.mark.parametrize(
    "frame",
    ["not json", "[1,2]", '{"type":"HELLO"}', '{"type":"DEVICE_AUTH_RESPONSE","signature":"%%%"}'],
)
def test_malformed_response_is_refused_and_changes_nothing(
    stack: Stack, headers: dict[str, str], frame: str
) -> None:
    identifier = device_id()
    key = make_key("ed25519")
    register(stack, headers, identifier, key.pem)
    verdict = connect_device(stack.ws_url, identifier, None, answer=lambda _: frame)
    assert not verdict.accepted
    assert "malformed" in verdict.reason
    assert information(stack, headers, identifier) == {"publicKey": key.pem, "unknown": True}
    # The handler survived: the same device still gets in with a proper answer.
    assert connect_device(stack.ws_url, identifier, key).accepted


def test_invalid_identifier_is_refused(stack: Stack) -> None:
    verdict = connect_device(stack.ws_url, "bad%20id!", make_key("ed25519"))
    assert not verdict.accepted
    assert verdict.close_code == 4400


def test_failed_attempts_are_rate_limited(stack: Stack, headers: dict[str, str]) -> None:
    identifier = device_id()
    key = make_key("ed25519")
    register(stack, headers, identifier, key.pem)
    wrong = make_key("ed25519")
    codes = [connect_device(stack.ws_url, identifier, wrong).close_code for _ in range(11)]
    assert codes[-1] == 4429
    # Even the right key waits out the window now.
    assert connect_device(stack.ws_url, identifier, key).close_code == 4429


@contextmanager
def embedded_with(root: Path, **env: str) -> Iterator[Stack]:
    running = build_stack("embedded", root, env={f"HUBLINE_{k.upper()}": v for k, v in env.items()})
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def short_ttl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with embedded_with(tmp_path_factory.mktemp("short-ttl"), challenge_ttl_seconds="1") as running:
        yield running


def test_expired_challenge_is_rejected(short_ttl: Stack) -> None:
    headers = short_ttl.auth()
    identifier = device_id()
    key = make_key("ed25519")
    register(short_ttl, headers, identifier, key.pem)

    def late(challenge: bytes) -> str:
        time.sleep(1.5)
        signature = base64.b64encode(key.sign(challenge)).decode()
        return json.dumps({"type": "DEVICE_AUTH_RESPONSE", "signature": signature})

    verdict = connect_device(short_ttl.ws_url, identifier, None, answer=late)
    assert not verdict.accepted
    assert "expired" in verdict.reason
    assert information(short_ttl, headers, identifier)["unknown"] is True


@pytest.fixture(scope="module")
def not_enforced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with embedded_with(tmp_path_factory.mktemp("open"), device_auth_enforced="false") as running:
        yield running


def test_enforcement_can_be_switched_off(not_enforced: Stack) -> None:
    verdict = connect_device(not_enforced.ws_url, device_id(), None)
    assert verdict.accepted
    assert verdict.challenge is None
