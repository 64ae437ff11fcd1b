"""SENZ change notifications over SignalR, with signalrcore as SENZ's own Python sample uses it."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from signalrcore.hub_connection_builder import HubConnectionBuilder
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.server import Server
from tests.e2e.test_senz_api import PASSWORD, owner_with_thermostat, put

RS = "\x1e"


@pytest.fixture(scope="module")
def senz(stack: Stack) -> Stack:
    """SENZ on both deployments (the module-scoped `stack` of tests/e2e/conftest.py)."""
    return stack


def sample_connection(stack: Stack, email: str, client: dict[str, str]) -> Any:
    """The seed's sample but for its inputs: password grant, access_token_factory, the hub URL."""

    def get_access_token() -> str:
        response = httpx.post(
            f"{stack.url}/connect/token",
            data={
                "grant_type": "password",
                "username": email,
                "password": PASSWORD,
                "scope": "openid restapi",
            },
            auth=(client["client_id"], client["client_secret"]),
        )
        return str(response.json()["access_token"])

    return (
        HubConnectionBuilder()
        .with_url(
            f"{stack.url}/v1/changenotifications",
            options={"access_token_factory": get_access_token},
        )
        .with_automatic_reconnect(
            {"type": "raw", "keep_alive_interval": 10, "reconnect_interval": 5, "max_attempts": 5}
        )
        .build()
    )


def test_signalrcore_sample_receives_notify_for_a_mode_change(senz: Stack) -> None:
    account = owner_with_thermostat(senz)
    client = json.loads(
        senz.cli(
            "clients",
            "create",
            "--name",
            "sample",
            "--grant-types",
            "password",
            "--scopes",
            "openid restapi",
        ).stdout
    )
    received: list[Any] = []
    got = threading.Event()
    opened = threading.Event()
    hub = sample_connection(senz, account["email"], client)
    hub.on_open(opened.set)

    def on_notify(arguments: list[Any]) -> None:
        received.extend(arguments[0])
        got.set()

    hub.on("Notify", on_notify)
    hub.start()
    try:
        assert opened.wait(10)
        subscribed = threading.Event()
        hub.send("Subscribe", [["1", "2"]], on_invocation=lambda _: subscribed.set())
        assert subscribed.wait(10)
        assert (
            put(
                senz,
                account["token"],
                "manual",
                {"serialNumber": account["serial"], "temperature": 2200},
            ).status_code
            == 204
        )
        assert got.wait(10), "no Notify arrived"
    finally:
        hub.stop()
    item = received[0]
    assert item["type"] == 2 and item["id"] == account["serial"] and item["timeStamp"].endswith("Z")


@contextmanager
def raw_session(
    stack: Stack | Server, token: str, negotiate_version: int = 1
) -> Iterator[tuple[Any, Any, str]]:
    negotiated = httpx.post(
        f"{stack.url}/v1/changenotifications/negotiate?negotiateVersion={negotiate_version}",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    connection_key = negotiated.get("connectionToken", negotiated["connectionId"])
    with connect(
        f"{stack.ws_url}/v1/changenotifications?id={connection_key}&access_token={token}"
    ) as ws:
        ws.send('{"protocol":"json","version":1}' + RS)
        assert ws.recv(timeout=5) == "{}" + RS
        yield ws, negotiated, connection_key


def messages(ws: Any) -> list[dict[str, Any]]:
    return [json.loads(part) for part in ws.recv(timeout=10).split(RS) if part]


def test_negotiate_versions_and_the_protocol_rules(senz: Stack) -> None:
    account = owner_with_thermostat(senz)
    token = account["token"]
    with raw_session(senz, token, negotiate_version=1) as (ws, negotiated, key):
        assert negotiated["negotiateVersion"] == 1
        assert negotiated["connectionToken"] != negotiated["connectionId"]
        assert negotiated["availableTransports"][0]["transport"] == "WebSockets"
        # Case-insensitive method names; a blocking invocation is answered with a Completion.
        ws.send(
            json.dumps(
                {"type": 1, "invocationId": "1", "target": "subscribe", "arguments": [["2"]]}
            )
            + RS
        )
        assert messages(ws) == [{"type": 3, "invocationId": "1"}]
        ws.send(
            json.dumps({"type": 1, "invocationId": "2", "target": "Nope", "arguments": []}) + RS
        )
        assert "Unknown hub method" in messages(ws)[0]["error"]
        ws.send(
            json.dumps(
                {"type": 1, "invocationId": "3", "target": "Subscribe", "arguments": [["9"]]}
            )
            + RS
        )
        assert "unknown notification type" in messages(ws)[0]["error"]
        # Counted subscriptions: two Subscribe need two Unsubscribe.
        ws.send(json.dumps({"type": 1, "target": "Subscribe", "arguments": [["2"]]}) + RS)
        ws.send(
            json.dumps(
                {"type": 1, "invocationId": "4", "target": "Unsubscribe", "arguments": [["2"]]}
            )
            + RS
        )
        assert messages(ws)[0]["invocationId"] == "4"
        put(senz, token, "auto", {"serialNumber": account["serial"]})
        notify = messages(ws)[0]
        assert notify["type"] == 1 and notify["target"] == "Notify"
    # The same id cannot open a second socket; an unknown id is 404.
    with pytest.raises(InvalidStatus) as second:
        connect(f"{senz.ws_url}/v1/changenotifications?id={key}&access_token={token}")
    assert second.value.response.status_code == 409
    with pytest.raises(InvalidStatus) as unknown:
        connect(f"{senz.ws_url}/v1/changenotifications?id=nope&access_token={token}")
    assert unknown.value.response.status_code == 404


def test_authentication_and_bad_handshakes(senz: Stack) -> None:
    assert httpx.post(f"{senz.url}/v1/changenotifications/negotiate").status_code == 401
    assert (
        httpx.post(
            f"{senz.url}/v1/changenotifications/negotiate",
            headers={"Authorization": "Bearer forged.token.here"},
        ).status_code
        == 401
    )
    account = owner_with_thermostat(senz)
    negotiated = httpx.post(
        f"{senz.url}/api/v1/changenotifications/negotiate",
        headers={"Authorization": f"Bearer {account['token']}"},
    ).json()
    assert negotiated["negotiateVersion"] == 0 and "connectionToken" not in negotiated
    with connect(
        f"{senz.ws_url}/v1/changenotifications?token={account['token']}"
    ) as ws:  # skipNegotiation
        ws.send('{"protocol":"messagepack-ish","version":9}' + RS)
        assert "error" in json.loads(ws.recv(timeout=5).rstrip(RS))
    with connect(f"{senz.ws_url}/v1/changenotifications?token={account['token']}") as ws:
        ws.send('{"protocol":"json","version":1}' + RS)
        ws.recv(timeout=5)
        ws.send("not json" + RS)
        assert json.loads(ws.recv(timeout=5).rstrip(RS))["type"] == 7  # Close, with the reason


def subscribe(ws: Any, types: list[Any]) -> None:
    ws.send(
        json.dumps({"type": 1, "invocationId": "1", "target": "Subscribe", "arguments": [types]})
        + RS
    )
    assert messages(ws)[0]["type"] == 3


def test_others_are_not_told(senz: Stack) -> None:
    mine, theirs = owner_with_thermostat(senz), owner_with_thermostat(senz)
    with raw_session(senz, theirs["token"]) as (ws, _, _):
        subscribe(ws, ["1", "2"])
        put(senz, mine["token"], "auto", {"serialNumber": mine["serial"]})
        time.sleep(1)
        ws.send(json.dumps({"type": 6}) + RS)
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1)


def subject_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def test_account_settings_changes_notify_type_1_with_the_account_id(senz: Stack) -> None:
    account, other = owner_with_thermostat(senz), owner_with_thermostat(senz)
    subject = subject_of(account["token"])
    admin = senz.auth("users:update")
    with raw_session(senz, account["token"]) as (ws, _, _):
        subscribe(ws, [1])
        # Someone else's account, and this user's thermostat (type 2, not subscribed): silence.
        changed = httpx.patch(
            f"{senz.url}/api/v1/users/{subject_of(other['token'])}",
            json={"language": "nb"},
            headers=admin,
        )
        assert changed.status_code == 204
        put(senz, account["token"], "off", {"serialNumber": account["serial"]})
        changed = httpx.patch(
            f"{senz.url}/api/v1/users/{subject}",
            json={"temperatureScale": "Fahrenheit", "language": "nb-NO"},
            headers=admin,
        )
        assert changed.status_code == 204
        (notify,) = messages(ws)
        assert notify["target"] == "Notify"
        (item,) = notify["arguments"][0]
        assert item["type"] == 1 and item["id"] == subject and item["timeStamp"].endswith("Z")
    shown = httpx.get(
        f"{senz.url}/api/v1/Account", headers={"Authorization": f"Bearer {account['token']}"}
    ).json()
    assert shown == {
        "userName": account["email"],
        "temperatureScale": "Fahrenheit",
        "language": "nb-NO",
    }


def test_account_changes_are_validated_and_change_nothing_when_refused(senz: Stack) -> None:
    account = owner_with_thermostat(senz)
    admin = senz.auth("users:update")
    url = f"{senz.url}/api/v1/users/{subject_of(account['token'])}"
    for body in (
        {"temperatureScale": "Kelvin"},
        {"language": "not a language"},
        {"name": ""},
        {"nickname": "x"},
        {"password": "short"},
        {"language": 7},
    ):
        refused = httpx.patch(url, json=body, headers=admin)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    unknown = httpx.patch(
        f"{senz.url}/api/v1/users/{uuid.uuid4()}", json={"language": "en"}, headers=admin
    )
    assert unknown.status_code == 404
    assert (
        httpx.patch(url, json={"language": "en"}, headers=senz.auth("users:read")).status_code
        == 403
    )
    shown = httpx.get(
        f"{senz.url}/api/v1/Account", headers={"Authorization": f"Bearer {account['token']}"}
    ).json()
    assert (shown["temperatureScale"], shown["language"]) == ("Celsius", "en")


def test_the_cli_changes_settings_and_the_password(senz: Stack) -> None:
    account = owner_with_thermostat(senz)
    senz.cli(
        "users",
        "set",
        "--email",
        account["email"],
        "--language",
        "de",
        "--password",
        stdin="a new passphrase of length\n",
    )
    shown = httpx.get(
        f"{senz.url}/api/v1/Account", headers={"Authorization": f"Bearer {account['token']}"}
    ).json()
    assert shown["language"] == "de"
    client = json.loads(
        senz.cli("clients", "create", "--name", "pw", "--grant-types", "password").stdout
    )
    for password, status in ((PASSWORD, 400), ("a new passphrase of length", 200)):
        response = httpx.post(
            f"{senz.url}/connect/token",
            data={"grant_type": "password", "username": account["email"], "password": password},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert response.status_code == status, response.text
    refused = senz.cli("users", "set", "--email", account["email"], "--language", "?", check=False)
    assert refused.returncode == 2 and "language" in refused.stderr


JS_CLIENTS = Path(__file__).parent / "js"


def test_microsoft_signalr_receives_notify(senz: Stack) -> None:
    """@microsoft/signalr in Node: negotiate version 1, connectionToken, accessTokenFactory."""
    if shutil.which("node") is None or not (JS_CLIENTS / "node_modules" / "@microsoft").exists():
        pytest.fail("node and tests/e2e/js/node_modules are needed: run `make js-clients`")
    account = owner_with_thermostat(senz)
    client = subprocess.Popen(
        [
            "node",
            str(JS_CLIENTS / "senz_notify.mjs"),
            f"{senz.url}/v1/changenotifications",
            account["token"],
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=JS_CLIENTS,
    )
    try:
        assert client.stdout is not None
        assert client.stdout.readline().strip() == "SUBSCRIBED", (
            client.stderr.read() if client.stderr else ""
        )
        assert (
            put(
                senz,
                account["token"],
                "hold",
                {"serialNumber": account["serial"], "temperature": 2300},
            ).status_code
            == 204
        )
        items = json.loads(client.stdout.readline())
        assert client.wait(timeout=20) == 0
    finally:
        if client.poll() is None:
            client.kill()
    assert items[0]["type"] == 2 and items[0]["id"] == account["serial"]


def test_signalrcore_over_the_messagepack_protocol(senz: Stack) -> None:
    from signalrcore.protocol.messagepack_protocol import MessagePackHubProtocol

    account = owner_with_thermostat(senz)
    received: list[Any] = []
    got, opened, subscribed = threading.Event(), threading.Event(), threading.Event()
    hub = (
        HubConnectionBuilder()
        .with_url(
            f"{senz.url}/v1/changenotifications",
            options={"access_token_factory": lambda: account["token"]},
        )
        .with_hub_protocol(MessagePackHubProtocol())
        .build()
    )
    hub.on_open(opened.set)
    hub.on("Notify", lambda arguments: (received.extend(arguments[0]), got.set()))
    hub.start()
    try:
        assert opened.wait(10)
        hub.send("Subscribe", [["2"]], on_invocation=lambda _: subscribed.set())
        assert subscribed.wait(10)
        assert (
            put(senz, account["token"], "off", {"serialNumber": account["serial"]}).status_code
            == 204
        )
        assert got.wait(10)
    finally:
        hub.stop()
    assert received[0]["type"] == 2 and received[0]["id"] == account["serial"]


def test_a_stopping_server_tells_clients_they_may_reconnect(tmp_path: Path) -> None:
    """SIGTERM: every SignalR client gets Close with allowReconnect (as ASP.NET Core sends on
    shutdown), so its automatic reconnect moves it to another node instead of failing."""
    with running_stack(tmp_path) as stack:
        account = owner_with_thermostat(stack)
        with raw_session(stack, account["token"]) as (ws, _, _):
            subscribe(ws, [2])
            stack.server.stop()
            assert messages(ws) == [{"type": 7, "allowReconnect": True}]
        assert "Application shutdown complete" in stack.server.log_tail()
