"""Pusher's HTTP API against a real `hubline serve`, with Pusher's own Python library.

Every trigger must land in the log as a PusherTrigger.Triggered event (read back through
the audit API); every bad request must be refused in Sockudo's error shape and add nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pusher
import pytest
from pusher.errors import PusherBadAuth, PusherBadRequest, PusherBadStatus, PusherForbidden

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.pusher_apps import RawSocket
from tests.e2e.pusher_apps import create_app as create_served_app
from tests.e2e.webhook_receiver import set_webhooks, webhook_receiver

MASTER_KEY = base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class App:
    app_id: str
    key: str
    secret: str


def create_app(stack: Stack, *limits: str) -> App:
    created = json.loads(stack.cli("apps", "create", "--name", "test app").stdout)
    if limits:
        stack.cli("apps", "set", created["app_id"], *(f"--limit={limit}" for limit in limits))
    return App(created["app_id"], created["key"], created["secret"])


def client(stack: Stack, app: App, secret: str | None = None) -> pusher.Pusher:
    port = int(stack.url.rsplit(":", 1)[1])
    return pusher.Pusher(
        app_id=app.app_id,
        key=app.key,
        secret=secret or app.secret,
        host="127.0.0.1",
        port=port,
        ssl=False,
        encryption_master_key_base64=MASTER_KEY,
    )


def signed(
    stack: Stack,
    app: App,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    timestamp: int | None = None,
    body_md5: str | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """A request signed as Pusher's libraries sign it, with what a test wants to get wrong."""
    query = {
        "auth_key": app.key,
        "auth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "auth_version": "1.0",
        **(params or {}),
    }
    if body or body_md5 is not None:
        query["body_md5"] = body_md5 or hashlib.md5(body, usedforsecurity=False).hexdigest()
    text = "\n".join([method, path, "&".join(f"{k}={v}" for k, v in sorted(query.items()))])
    query["auth_signature"] = hmac.new(
        app.secret.encode(), text.encode(), hashlib.sha256
    ).hexdigest()
    return httpx.request(
        method,
        f"{stack.url}{path}",
        params=query,
        content=body,
        headers={"Content-Type": "application/json"} if body else {},
    )


def events(stack: Stack, headers: dict[str, str], event_type: str) -> list[dict[str, Any]]:
    found = httpx.get(
        f"{stack.url}/audit/events",
        params={"type": event_type, "limit": 1000},
        headers=headers,
    )
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    return items


@pytest.fixture(scope="module")
def app(stack: Stack) -> App:
    return create_app(stack)


@pytest.fixture(scope="module")
def auditor(stack: Stack) -> dict[str, str]:
    return stack.auth("audit:read")


@pytest.fixture
def unchanged(stack: Stack, auditor: dict[str, str]) -> Iterator[None]:
    """The test must leave the log without a new trigger or termination."""
    before = [
        len(events(stack, auditor, kind))
        for kind in ("PusherTrigger.Triggered", "PusherApp.UserConnectionsTerminated")
    ]
    yield
    after = [
        len(events(stack, auditor, kind))
        for kind in ("PusherTrigger.Triggered", "PusherApp.UserConnectionsTerminated")
    ]
    assert after == before


def payloads_of(stack: Stack, auditor: dict[str, str], app: App) -> list[dict[str, Any]]:
    return [
        {**e["payload"], "meta": e["actor"]}
        for e in events(stack, auditor, "PusherTrigger.Triggered")
        if e["payload"]["app_id"] == app.app_id
    ]


def test_trigger_lands_in_the_log(stack: Stack, app: App, auditor: dict[str, str]) -> None:
    assert client(stack, app).trigger(["news", "sport"], "headline", {"title": "hi"}) == {}
    [event] = [p for p in payloads_of(stack, auditor, app) if p["name"] == "headline"]
    assert event["channels"] == ["news", "sport"]
    assert json.loads(event["data"]) == {"title": "hi"}
    assert event["socket_id"] is None
    assert event["meta"]["actor_kind"] == "pusher_app" and event["meta"]["actor_id"] == app.app_id
    assert event["meta"]["source_address"] == "127.0.0.1"


def test_socket_exclusion_and_info(stack: Stack, app: App, auditor: dict[str, str]) -> None:
    answer = signed(
        stack,
        app,
        "POST",
        f"/apps/{app.app_id}/events",
        json.dumps(
            {
                "name": "excluded",
                "data": "x",
                "channel": "presence-room",
                "socket_id": "123.456",
                "info": "subscription_count,user_count",
            }
        ).encode(),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "channels": {"presence-room": {"subscription_count": 0, "user_count": 0}}
    }
    [event] = [p for p in payloads_of(stack, auditor, app) if p["name"] == "excluded"]
    assert event["socket_id"] == "123.456"


def test_trigger_batch(stack: Stack, app: App, auditor: dict[str, str]) -> None:
    batch = [{"channel": f"batch-{i}", "name": "batched", "data": str(i)} for i in range(3)]
    assert client(stack, app).trigger_batch(batch) == {}
    stored = sorted(
        (p["channels"], p["data"])
        for p in payloads_of(stack, auditor, app)
        if p["name"] == "batched"
    )
    assert stored == [([f"batch-{i}"], str(i)) for i in range(3)]


def test_encrypted_trigger_keeps_only_ciphertext(
    stack: Stack, app: App, auditor: dict[str, str]
) -> None:
    plaintext = "the launch code is " + secrets.token_hex(8)
    client(stack, app).trigger("private-encrypted-vault", "sealed", plaintext)
    [event] = [p for p in payloads_of(stack, auditor, app) if p["name"] == "sealed"]
    assert plaintext not in json.dumps(event)
    assert set(json.loads(event["data"])) == {"nonce", "ciphertext"}


def test_send_to_user(stack: Stack, app: App, auditor: dict[str, str]) -> None:
    assert client(stack, app).send_to_user("user-7", "notice", {"n": 1}) == {}
    [event] = [p for p in payloads_of(stack, auditor, app) if p["name"] == "notice"]
    assert event["channels"] == ["#server-to-user-user-7"]


def test_terminate_user_connections(stack: Stack, app: App, auditor: dict[str, str]) -> None:
    # The library posts to /users/{id}/terminate_connections, naming the app by its key.
    assert client(stack, app).terminate_user_connections("user-9") == {}
    answer = signed(
        stack, app, "POST", f"/apps/{app.app_id}/users/user-10/terminate_connections", b"{}"
    )
    assert answer.status_code == 200 and answer.json() == {}
    terminated = [
        e["payload"]["user_id"]
        for e in events(stack, auditor, "PusherApp.UserConnectionsTerminated")
        if e["payload"]["app_id"] == app.app_id
    ]
    assert terminated == ["user-9", "user-10"]


def test_channel_queries(stack: Stack, app: App) -> None:
    lib = client(stack, app)
    assert lib.channels_info() == {"channels": {}}
    assert lib.channels_info("presence-", ["user_count"]) == {"channels": {}}
    assert lib.channel_info("presence-room", ["user_count", "subscription_count"]) == {
        "occupied": False,
        "user_count": 0,
        "subscription_count": 0,
    }
    assert lib.users_info("presence-room") == {"users": []}
    with pytest.raises(PusherBadRequest):
        lib.users_info("public-room")
    with pytest.raises(PusherBadRequest):
        lib.channel_info("public-room", ["user_count"])
    with pytest.raises(PusherBadRequest):
        lib.channels_info("private-", ["user_count"])


def _refused(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status"] == status and body["code"] == code and body["error"]


@pytest.mark.usefixtures("unchanged")
def test_bad_signature(stack: Stack, app: App) -> None:
    with pytest.raises(PusherBadAuth):
        client(stack, app, secret="0" * 20).trigger("news", "e", "d")
    with pytest.raises(PusherBadAuth):
        client(stack, app, secret="0" * 20).terminate_user_connections("user-1")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("skew", [-700, 700])
def test_stale_and_future_timestamps(stack: Stack, app: App, skew: int) -> None:
    body = b'{"name":"e","data":"d","channel":"news"}'
    answer = signed(
        stack, app, "POST", f"/apps/{app.app_id}/events", body, timestamp=int(time.time()) + skew
    )
    _refused(answer, 401, "auth_failed")


@pytest.mark.usefixtures("unchanged")
def test_wrong_or_missing_body_md5(stack: Stack, app: App) -> None:
    body = b'{"name":"e","data":"d","channel":"news"}'
    path = f"/apps/{app.app_id}/events"
    _refused(signed(stack, app, "POST", path, body, body_md5="0" * 32), 401, "auth_failed")
    # Signed without a body_md5, then sent with a body.
    query_only = signed(stack, app, "POST", path)
    answer = httpx.post(str(query_only.request.url), content=body)
    _refused(answer, 401, "auth_failed")


@pytest.mark.usefixtures("unchanged")
def test_unknown_app(stack: Stack, app: App) -> None:
    with pytest.raises(PusherBadStatus, match="404"):
        client(stack, App("99999999999", app.key, app.secret)).trigger("news", "e", "d")
    # The key route with a key nobody has.
    with pytest.raises(PusherBadAuth):
        client(stack, App(app.app_id, "nobodys-key", app.secret)).terminate_user_connections("u")


@pytest.mark.usefixtures("unchanged")
def test_disabled_app(stack: Stack) -> None:
    disabled = create_app(stack)
    stack.cli("apps", "disable", disabled.app_id)
    with pytest.raises(PusherForbidden):
        client(stack, disabled).trigger("news", "e", "d")
    with pytest.raises(PusherForbidden):
        client(stack, disabled).channels_info()


@pytest.mark.usefixtures("unchanged")
def test_payload_over_the_limit(stack: Stack) -> None:
    small = create_app(stack, "max_event_payload_bytes=1000")
    path = f"/apps/{small.app_id}/events"
    body = json.dumps({"name": "e", "data": "x" * 1001, "channel": "news"}).encode()
    _refused(signed(stack, small, "POST", path, body), 413, "payload_too_large")
    # A body far past anything the app's limits allow is refused before it is read whole.
    huge = json.dumps({"name": "e", "data": "x" * 200_000, "channel": "news"}).encode()
    _refused(signed(stack, small, "POST", path, huge), 413, "payload_too_large")
    batch = json.dumps({"batch": [{"name": "e", "data": "x" * 1001, "channel": "news"}]}).encode()
    _refused(
        signed(stack, small, "POST", f"/apps/{small.app_id}/batch_events", batch),
        413,
        "payload_too_large",
    )


@pytest.mark.usefixtures("unchanged")
def test_too_many_channels_and_events(stack: Stack) -> None:
    narrow = create_app(stack, "max_channels_per_trigger=2", "max_events_per_batch=2")
    with pytest.raises(PusherBadRequest, match="limit_exceeded"):
        client(stack, narrow).trigger(["a", "b", "c"], "e", "d")
    with pytest.raises(PusherBadRequest, match="limit_exceeded"):
        client(stack, narrow).trigger_batch(
            [{"channel": "a", "name": "e", "data": "d"} for _ in range(3)]
        )


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "event",
    [
        {"name": "e", "data": "d", "channel": "bad channel"},
        {"name": "e", "data": "d", "channel": "x" * 165},
        {"name": "e", "data": "d", "channel": ""},
        {"name": "e", "data": "d", "channels": []},
        {"name": "e", "data": "d", "channels": ["private-encrypted-a", "b"]},
        {"name": "pusher:internal", "data": "d", "channel": "a"},
        {"name": "x" * 201, "data": "d", "channel": "a"},
        {"name": "", "data": "d", "channel": "a"},
        {"data": "d", "channel": "a"},
        {"name": "e", "channel": "a"},
        {"name": "e", "data": "d", "channel": "a", "socket_id": "not-a-socket"},
        {"name": "e", "data": "d", "channel": "a", "info": "everything"},
    ],
)
def test_invalid_events(stack: Stack, app: App, event: dict[str, Any]) -> None:
    body = json.dumps(event).encode()
    answer = signed(stack, app, "POST", f"/apps/{app.app_id}/events", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] in ("invalid_input", "limit_exceeded")
    batch = json.dumps({"batch": [{"name": "ok", "data": "d", "channel": "a"}, event]}).encode()
    answer = signed(stack, app, "POST", f"/apps/{app.app_id}/batch_events", batch)
    assert answer.status_code == 400, answer.text


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"batch": "no"}'])
def test_malformed_bodies(stack: Stack, app: App, body: bytes) -> None:
    for route in ("events", "batch_events"):
        _refused(
            signed(stack, app, "POST", f"/apps/{app.app_id}/{route}", body), 400, "invalid_input"
        )


def test_admin_rest(stack: Stack) -> None:
    admin = stack.auth("pusherApps:read,pusherApps:update")
    base = f"{stack.url}/api/v1/pusher/apps"
    created = httpx.post(
        base, json={"name": "rest app", "limits": {"max_events_per_batch": 3}}, headers=admin
    )
    assert created.status_code == 201, created.text
    credentials = created.json()
    app = App(credentials["app_id"], credentials["key"], credentials["secret"])
    assert client(stack, app).trigger("news", "e", "d") == {}
    found = httpx.get(f"{base}/{app.app_id}", headers=admin).json()
    assert found["limits"]["max_events_per_batch"] == 3 and "secret" not in found
    changed = httpx.patch(f"{base}/{app.app_id}", json={"enabled": False}, headers=admin)
    assert changed.status_code == 204, changed.text
    with pytest.raises(PusherForbidden):
        client(stack, app).trigger("news", "e", "d")
    rotated = httpx.post(f"{base}/{app.app_id}/secret", headers=admin).json()
    assert rotated["secret"] != app.secret and rotated["key"] == app.key
    reader = stack.auth("pusherApps:read")
    assert any(a["app_id"] == app.app_id for a in httpx.get(base, headers=reader).json())
    refused = httpx.post(base, json={"name": "nope"}, headers=reader)
    assert refused.status_code == 403


def test_admin_rest_webhook_attempts(stack: Stack) -> None:
    reader = stack.auth("pusherApps:read")
    app = create_served_app(stack)
    attempts_url = f"{stack.url}/api/v1/pusher/apps/{app.app_id}/webhooks"
    assert httpx.get(attempts_url, headers=reader).json() == []
    with webhook_receiver(app, failures=1) as hooks:
        set_webhooks(stack, app, hooks.url, "channel_occupied")
        time.sleep(1.5)  # the app's sockets learn the new webhooks from the feed
        raw = RawSocket(stack, app.key).established()
        assert raw.subscribe("news")["event"] == "pusher_internal:subscription_succeeded"
        hooks.wait_for(lambda events: any(e["name"] == "channel_occupied" for e in events))
        raw.close()
    deadline = time.monotonic() + 15
    while True:
        attempts = httpx.get(attempts_url, headers=reader).json()
        if {"delivered", "retrying"} <= {a["outcome"] for a in attempts}:
            break
        assert time.monotonic() < deadline, attempts
        time.sleep(0.2)
    assert attempts[0]["outcome"] == "delivered" and attempts[0]["status"] == 200
    assert attempts[-1]["outcome"] == "retrying" and attempts[-1]["status"] == 500
    assert all(a["url"] == hooks.url and a["events"] >= 1 for a in attempts)
    assert len(httpx.get(attempts_url, params={"last": 1}, headers=reader).json()) == 1
    assert httpx.get(attempts_url, params={"last": 0}, headers=reader).status_code == 400
    assert httpx.get(attempts_url).status_code == 401
    assert httpx.get(attempts_url, headers=stack.auth("audit:read")).status_code == 403
    unknown = f"{stack.url}/api/v1/pusher/apps/999999999/webhooks"
    assert httpx.get(unknown, headers=reader).status_code == 404


def test_the_api_under_a_path_prefix(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("pusher-prefix")
    with running_stack(root, env={"HUBLINE_PUSHER_PATH_PREFIX": "/pusher"}) as prefixed:
        app = create_app(prefixed)
        body = b'{"name":"e","data":"d","channel":"news"}'
        answer = signed(prefixed, app, "POST", f"/pusher/apps/{app.app_id}/events", body)
        assert answer.status_code == 200 and answer.json() == {}
        # Signed for another path than the one requested: refused, in Pusher's format.
        wrong = signed(prefixed, app, "POST", f"/apps/{app.app_id}/events", body)
        moved = httpx.post(
            str(wrong.request.url).replace("/apps/", "/pusher/apps/", 1), content=body
        )
        _refused(moved, 401, "auth_failed")
        unknown = httpx.get(f"{prefixed.url}/pusher/apps/{app.app_id}/nothing-here")
        _refused(unknown, 404, "not_found")
