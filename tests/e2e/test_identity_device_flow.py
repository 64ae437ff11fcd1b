"""RFC 8628: a device without a browser signs someone in, approved on another screen."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.test_identity_authorize import PASSWORD, Browser, hidden_fields

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("device")) as stack:
        yield stack


def setup_account(idp: Stack) -> dict[str, str]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    idp.cli(
        "users", "create", "--email", email, "--name", "Thermostat owner", stdin=PASSWORD + "\n"
    )
    created = json.loads(
        idp.cli(
            "clients",
            "create",
            "--name",
            "TV app",
            "--public",
            "--grant-types",
            f"{DEVICE_GRANT},refresh_token",
            "--scopes",
            "openid restapi offline_access",
        ).stdout
    )
    return {"email": email, **created}


def decide(
    idp: Stack, account: dict[str, str], verification_uri_complete: str, decision: str
) -> None:
    browser = Browser(idp)
    path = verification_uri_complete.removeprefix(idp.url)
    after_login = browser.login(browser.open(path), account["email"], PASSWORD)
    page = browser.http.get(after_login.headers["location"])
    fields = hidden_fields(page.text)
    user_code = verification_uri_complete.split("user_code=")[1]
    done = browser.http.post(
        "/device", data={**fields, "user_code": user_code, "decision": decision}
    )
    assert done.status_code == 200, done.text


def test_device_flow_from_pending_to_tokens(idp: Stack) -> None:
    account = setup_account(idp)
    started = httpx.post(
        f"{idp.url}/connect/deviceauthorization",
        data={"client_id": account["client_id"], "scope": "openid restapi offline_access"},
    )
    assert started.status_code == 200
    body = started.json()
    assert body["verification_uri"] == f"{idp.url}/device" and body["interval"] == 5
    oauth = OAuth2Client(client_id=account["client_id"], token_endpoint_auth_method="none")
    with pytest.raises(OAuthError) as pending:
        oauth.fetch_token(
            f"{idp.url}/connect/token", grant_type=DEVICE_GRANT, device_code=body["device_code"]
        )
    assert pending.value.error == "authorization_pending"
    with pytest.raises(OAuthError) as too_fast:
        oauth.fetch_token(
            f"{idp.url}/connect/token", grant_type=DEVICE_GRANT, device_code=body["device_code"]
        )
    assert too_fast.value.error == "slow_down"
    decide(idp, account, body["verification_uri_complete"], "allow")
    token = oauth.fetch_token(
        f"{idp.url}/connect/token", grant_type=DEVICE_GRANT, device_code=body["device_code"]
    )
    assert token["access_token"] and token["refresh_token"]
    info = httpx.get(
        f"{idp.url}/connect/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert info.status_code == 200
    with pytest.raises(OAuthError) as again:
        oauth.fetch_token(
            f"{idp.url}/connect/token", grant_type=DEVICE_GRANT, device_code=body["device_code"]
        )
    assert again.value.error == "invalid_grant"


def test_denied_and_forged_device_codes(idp: Stack) -> None:
    account = setup_account(idp)
    body = httpx.post(
        f"{idp.url}/connect/deviceauthorization",
        data={"client_id": account["client_id"], "scope": "openid"},
    ).json()
    decide(idp, account, body["verification_uri_complete"], "deny")
    oauth = OAuth2Client(client_id=account["client_id"], token_endpoint_auth_method="none")
    with pytest.raises(OAuthError) as denied:
        oauth.fetch_token(
            f"{idp.url}/connect/token", grant_type=DEVICE_GRANT, device_code=body["device_code"]
        )
    assert denied.value.error == "access_denied"
    forged = body["device_code"].split(".")[0] + ".forged"
    with pytest.raises(OAuthError) as bad:
        oauth.fetch_token(f"{idp.url}/connect/token", grant_type=DEVICE_GRANT, device_code=forged)
    assert bad.value.error == "invalid_request"
