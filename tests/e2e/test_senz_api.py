"""SENZ's RestAPI, driven by pysenz (the library Home Assistant's SENZ integration uses)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pysenz.auth
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from pysenz import SENZAPI, AbstractSENZAuth

from tests.e2e.conftest import Stack, build_stack, running_stack

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def senz(stack: Stack) -> Stack:
    """SENZ on both deployments (the module-scoped `stack` of tests/e2e/conftest.py)."""
    return stack


def new_owner(stack: Stack, room: str = "Living room") -> tuple[str, str]:
    """A new user with one thermostat: their e-mail and its serial number."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    stack.cli("users", "create", "--email", email, "--name", "Owner", stdin=PASSWORD + "\n")
    serial = uuid.uuid4().hex[:8].upper()
    stack.cli("thermostats", "add", "--serial", serial, "--owner", email, "--name", room)
    return email, serial


def owner_with_thermostat(
    stack: Stack, scope: str = "openid restapi offline_access"
) -> dict[str, str]:
    email, serial = new_owner(stack)
    client = json.loads(
        stack.cli(
            "clients",
            "create",
            "--name",
            "ha",
            "--grant-types",
            "password,refresh_token",
            "--scopes",
            "openid restapi offline_access",
        ).stdout
    )
    with OAuth2Client(client["client_id"], client["client_secret"]) as oauth:
        token = oauth.fetch_token(
            f"{stack.url}/connect/token", username=email, password=PASSWORD, scope=scope
        )
    return {"email": email, "serial": serial, "token": token["access_token"]}


class TokenAuth(AbstractSENZAuth):
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        super().__init__(client)
        self._token = token

    async def get_access_token(self) -> str:
        return self._token


def with_pysenz(stack: Stack, token: str, work):  # type: ignore[no-untyped-def]
    pysenz.auth.API_ENDPOINT = f"{stack.url}/api/v1"  # the library's one input we change

    async def run():  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient() as client:
            return await work(SENZAPI(TokenAuth(client, token)))

    return asyncio.run(run())


def test_pysenz_lists_and_sets_every_mode(senz: Stack) -> None:
    account = owner_with_thermostat(senz)

    async def work(api: SENZAPI) -> list[tuple[int, float, str | None]]:
        me = await api.get_account()
        assert me.username == account["email"]
        (thermostat,) = await api.get_thermostats()
        assert thermostat.serial_number == account["serial"] and thermostat.name == "Living room"
        states = []
        await thermostat.manual(21.5)
        t = await api.get_thermostat(account["serial"])
        states.append((t.mode, t.setpoint_temperature, t.hold_until))
        await t.hold(18.0, datetime.now(UTC) + timedelta(hours=3))
        t = await api.get_thermostat(account["serial"])
        states.append((t.mode, t.setpoint_temperature, t.hold_until))
        await t.auto()
        t = await api.get_thermostat(account["serial"])
        states.append((t.mode, t.setpoint_temperature, t.hold_until))
        return states

    manual, hold, auto = with_pysenz(senz, account["token"], work)
    assert manual == (3, 21.5, None)
    assert hold[0] == 2 and hold[1] == 18.0 and hold[2].endswith("Z")
    assert auto[0] == 1 and auto[2] is None


def put(
    stack: Stack, token: str, mode: str, body: object, content_type: str = "application/json"
) -> httpx.Response:
    return httpx.put(
        f"{stack.url}/api/v1/Mode/{mode}",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )


def test_the_seeds_validation_rules(senz: Stack) -> None:
    account = owner_with_thermostat(senz)
    token, serial = account["token"], account["serial"]
    now = datetime.now(UTC)
    cases = [
        (
            "hold",
            {"serialNumber": serial, "holdUntil": (now + timedelta(hours=24)).isoformat()},
            400,
        ),
        (
            "hold",
            {"serialNumber": serial, "holdUntil": (now - timedelta(minutes=1)).isoformat()},
            400,
        ),
        ("hold", {"serialNumber": serial, "holdUntil": "tomorrow"}, 400),
        ("manual", {"serialNumber": serial, "temperature": "warm"}, 400),
        ("manual", {"serialNumber": serial, "temperature": 9000}, 400),
        ("manual", {"temperature": 2000}, 400),
        ("manual", {"serialNumber": "NOPE0000", "temperature": 2000}, 404),
        ("sideways", {"serialNumber": serial}, 404),
    ]
    for mode, body, status in cases:
        response = put(senz, token, mode, body)
        assert response.status_code == status, (mode, body, response.text)
        assert response.json()["messages"], body
    assert put(senz, token, "manual", {"serialNumber": serial}, "text/plain").status_code == 415
    # Older integrations send application/json-patch+json: accepted.
    assert (
        put(
            senz,
            token,
            "manual",
            {"serialNumber": serial, "temperature": 2100},
            "application/json-patch+json",
        ).status_code
        == 204
    )
    # Hold without temperature reuses the last hold temperature; without holdUntil lasts 2 h.
    assert (
        put(
            senz,
            token,
            "hold",
            {
                "serialNumber": serial,
                "temperature": 1900,
                "holdUntil": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            },
        ).status_code
        == 204
    )
    assert put(senz, token, "hold", {"serialNumber": serial}).status_code == 204
    shown = httpx.get(
        f"{senz.url}/api/v1/Thermostat/{serial}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert shown["setPointTemperature"] == 1900
    until = datetime.fromisoformat(shown["holdUntil"].replace("Z", "+00:00"))
    assert timedelta(hours=1, minutes=58) < until - now < timedelta(hours=2, minutes=2)
    # Relative temperatures move from the current set point.
    assert (
        put(
            senz,
            token,
            "manual",
            {"serialNumber": serial, "temperature": 100, "temperatureType": 1},
        ).status_code
        == 204
    )


def test_other_users_thermostats_scope_and_credentials(senz: Stack) -> None:
    mine, theirs = owner_with_thermostat(senz), owner_with_thermostat(senz)
    auth = {"Authorization": f"Bearer {mine['token']}"}
    assert (
        httpx.get(f"{senz.url}/api/v1/Thermostat/{theirs['serial']}", headers=auth).status_code
        == 404
    )
    assert put(senz, mine["token"], "auto", {"serialNumber": theirs["serial"]}).status_code == 404
    assert [
        t["serialNumber"] for t in httpx.get(f"{senz.url}/api/v1/Thermostat", headers=auth).json()
    ] == [mine["serial"]]
    unauthenticated = httpx.get(f"{senz.url}/api/v1/Thermostat")
    assert unauthenticated.status_code == 401 and unauthenticated.json()["messages"]
    assert (
        httpx.get(
            f"{senz.url}/api/v1/Account", headers={"Authorization": "Bearer not.a.jwt"}
        ).status_code
        == 401
    )
    no_scope = owner_with_thermostat(senz, scope="openid")
    forbidden = httpx.get(
        f"{senz.url}/api/v1/Account", headers={"Authorization": f"Bearer {no_scope['token']}"}
    )
    assert forbidden.status_code == 403 and "restapi" in forbidden.json()["messages"][0]


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Stack]:
    stack = build_stack("embedded", tmp_path, env={"HUBLINE_RATE_LIMIT_RULES": "2/1m,10/7d"})
    stack.start()
    yield stack
    stack.stop()


def test_burst_limit_answers_429_as_senz_does(limited: Stack) -> None:
    account = owner_with_thermostat(limited)
    auth = {"Authorization": f"Bearer {account['token']}"}
    first, second, third = (
        httpx.get(f"{limited.url}/api/v1/Thermostat", headers=auth) for _ in range(3)
    )
    assert (
        first.headers["X-Rate-Limit-Limit"] == "7d"
        and first.headers["X-Rate-Limit-Remaining"] == "9"
    )
    assert second.status_code == 200
    assert (
        third.status_code == 429
        and third.text == "API calls quota exceeded! maximum admitted 2 per 1m."
    )
    assert int(third.headers["Retry-After"]) >= 1


def test_an_expired_token_is_refused_by_rest_and_the_hub(tmp_path: Path) -> None:
    env = {
        "HUBLINE_ACCESS_TOKEN_LIFETIME_SECONDS": "2",
        "HUBLINE_ACCESS_TOKEN_CLOCK_SKEW_SECONDS": "0",
    }
    with running_stack(tmp_path, env=env) as stack:
        account = owner_with_thermostat(stack)
        auth = {"Authorization": f"Bearer {account['token']}"}
        assert httpx.get(f"{stack.url}/api/v1/Thermostat", headers=auth).status_code == 200
        time.sleep(3)
        expired = httpx.get(f"{stack.url}/api/v1/Thermostat", headers=auth)
        assert expired.status_code == 401
        assert "expired" in expired.json()["messages"][0].lower()
        assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
        assert (
            put(stack, account["token"], "off", {"serialNumber": account["serial"]}).status_code
            == 401
        )
        negotiate = httpx.post(f"{stack.url}/v1/changenotifications/negotiate", headers=auth)
        assert negotiate.status_code == 401


def test_a_hold_expires_across_a_restart(tmp_path: Path) -> None:
    stack = build_stack("embedded", tmp_path)
    stack.start()
    try:
        account = owner_with_thermostat(stack)
        until = (datetime.now(UTC) + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert (
            put(
                stack,
                account["token"],
                "hold",
                {"serialNumber": account["serial"], "temperature": 2500, "holdUntil": until},
            ).status_code
            == 204
        )
        stack.server.stop()
        time.sleep(4)  # the hold ends while the server is down
        stack.server.start()
        deadline = time.monotonic() + 15
        while True:
            shown = httpx.get(
                f"{stack.url}/api/v1/Thermostat/{account['serial']}",
                headers={"Authorization": f"Bearer {account['token']}"},
            ).json()
            if shown["mode"] == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert shown["mode"] == 1 and shown["holdUntil"] is None
        assert "Thermostat.HoldExpired" in stack.cli("events", "export").stdout
    finally:
        stack.stop()


def test_auto_follows_the_weekly_schedule(senz: Stack) -> None:
    account = owner_with_thermostat(senz)
    auth = {"Authorization": f"Bearer {account['token']}", "Content-Type": "application/json"}
    now = datetime.now(UTC)
    day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[
        now.weekday()
    ]
    entries = [{"day": day, "time": "00:00", "temperature": 2250}]
    url = f"{senz.url}/api/v1/Thermostat/{account['serial']}/Schedule"
    assert httpx.put(url, content=json.dumps({"entries": entries}), headers=auth).status_code == 204
    assert httpx.get(url, headers=auth).json() == {"entries": entries}
    shown = httpx.get(f"{senz.url}/api/v1/Thermostat/{account['serial']}", headers=auth).json()
    assert shown["mode"] == 1 and shown["setPointTemperature"] == 2250
    bad = httpx.put(url, content=json.dumps({"entries": [{"day": "Funday"}]}), headers=auth)
    assert bad.status_code == 400 and bad.json()["messages"]
