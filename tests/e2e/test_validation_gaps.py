"""Issue 9, defect 7, through a running Hubline (both deployments): input that passed
validation though it should not have is refused in each surface's own format."""

from __future__ import annotations

import json

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import Stack
from tests.e2e.test_senz_api import PASSWORD, new_owner, owner_with_thermostat, put


@pytest.fixture(scope="module")
def hub(stack: Stack) -> Stack:
    return stack


def senz_refusal(response: httpx.Response, status: int) -> list[str]:
    """SENZ's {"messages": [...]} with the status; the messages, to look into."""
    assert response.status_code == status, response.text
    messages = response.json()["messages"]
    assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
    return messages


def client(stack: Stack, grant_types: str) -> dict[str, str]:
    created = stack.cli(
        "clients",
        "create",
        "--name",
        "integration",
        "--grant-types",
        grant_types,
        "--scopes",
        "openid restapi",
    )
    return dict(json.loads(created.stdout))


# -- schedule times ---------------------------------------------------------------------


@pytest.mark.parametrize("time", ["06:00\n", "0\u0663:30", "06:0\uff10"])
def test_a_schedule_time_is_ascii_hh_mm(hub: Stack, time: str) -> None:
    account = owner_with_thermostat(hub)
    url = f"{hub.url}/api/v1/Thermostat/{account['serial']}/Schedule"
    auth = {"Authorization": f"Bearer {account['token']}", "Content-Type": "application/json"}
    entries = [{"day": "Monday", "time": time, "temperature": 2000}]
    refused = httpx.put(url, content=json.dumps({"entries": entries}), headers=auth)
    assert any("HH:mm" in m for m in senz_refusal(refused, 400))
    assert httpx.get(url, headers=auth).json() == {"entries": []}  # nothing changed


# -- Auto and Off with temperature fields -----------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "off"])
def test_auto_and_off_refuse_the_temperatures_manual_refuses(hub: Stack, mode: str) -> None:
    account = owner_with_thermostat(hub)
    token, serial = account["token"], account["serial"]
    for extra in ({"temperature": 9000}, {"temperature": 2000, "temperatureType": 7}):
        body = {"serialNumber": serial, **extra}
        assert senz_refusal(put(hub, token, mode, body), 400) == senz_refusal(
            put(hub, token, "manual", body), 400
        )
    shown = httpx.get(
        f"{hub.url}/api/v1/Thermostat/{serial}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert shown["mode"] == 1 and shown["setPointTemperature"] == 2000  # as registered
    # Absent or valid temperature fields are still taken.
    assert put(hub, token, mode, {"serialNumber": serial}).status_code == 204
    valid = {"serialNumber": serial, "temperature": 2100, "temperatureType": 0}
    assert put(hub, token, mode, valid).status_code == 204


# -- API tokens -------------------------------------------------------------------------


def restapi_user(stack: Stack) -> dict[str, str]:
    """A plain user's access token with the restapi scope (which lends thermostat rights)."""
    email, _ = new_owner(stack)
    password_client = client(stack, "password")
    with OAuth2Client(password_client["client_id"], password_client["client_secret"]) as oauth:
        token = oauth.fetch_token(
            f"{stack.url}/connect/token", username=email, password=PASSWORD, scope="openid restapi"
        )
    return {"Authorization": f"Bearer {token['access_token']}"}


@pytest.mark.parametrize("permission", ["thermostats:update", "thermostats:read", "account:read"])
def test_a_user_cannot_mint_a_token_with_what_a_scope_lends(hub: Stack, permission: str) -> None:
    auth = restapi_user(hub)
    refused = httpx.post(
        f"{hub.url}/api/v1/tokens",
        json={"name": "from a scope", "permissions": [permission]},
        headers=auth,
    )
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert permission in refused.json()["detail"]
    assert httpx.get(f"{hub.url}/api/v1/tokens", headers=auth).json() == []
    # What the user's role gives stays allowed.
    allowed = httpx.post(
        f"{hub.url}/api/v1/tokens",
        json={"name": "mine", "permissions": ["tokens:read"], "validForDays": 30},
        headers=auth,
    )
    assert allowed.status_code == 201, allowed.text


@pytest.mark.parametrize("days", [True, False, "30", 1.5, 0, 3651])
def test_valid_for_days_is_a_whole_number_of_days(hub: Stack, days: object) -> None:
    auth = restapi_user(hub)
    refused = httpx.post(
        f"{hub.url}/api/v1/tokens",
        json={"name": "odd", "permissions": ["tokens:read"], "validForDays": days},
        headers=auth,
    )
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{hub.url}/api/v1/tokens", headers=auth).json() == []


# -- a client's own token on SENZ ------------------------------------------------------


def client_credentials_token(stack: Stack) -> str:
    own = client(stack, "client_credentials")
    with OAuth2Client(own["client_id"], own["client_secret"]) as oauth:
        token = oauth.fetch_token(
            f"{stack.url}/connect/token", grant_type="client_credentials", scope="restapi"
        )
    return str(token["access_token"])


def test_a_clients_own_token_is_no_users_on_senz(hub: Stack) -> None:
    token = client_credentials_token(hub)
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/Account", "/api/v1/Thermostat", "/api/v1/Thermostat/X1/Schedule"):
        refused = httpx.get(f"{hub.url}{path}", headers=bearer)
        assert any("no user" in m for m in senz_refusal(refused, 401)), path
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    senz_refusal(put(hub, token, "auto", {"serialNumber": "X1"}), 401)
    # The change-notification hub refuses it as it refuses any token it cannot use.
    negotiated = httpx.post(
        f"{hub.url}/v1/changenotifications/negotiate?negotiateVersion=1", headers=bearer
    )
    assert negotiated.status_code == 401
    with pytest.raises(InvalidStatus) as socket:
        connect(f"{hub.ws_url}/v1/changenotifications?access_token={token}")
    assert socket.value.response.status_code == 401
