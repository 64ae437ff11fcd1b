"""OpenShock API tokens (/1/tokens, /2/tokens) against `hubline serve`: plain HTTP with a
session, and the official SDK with the token itself."""

from __future__ import annotations

from typing import Any

import pytest
from openshock import OpenShockClient
from openshock.exceptions import OpenShockAuthError

from tests.e2e.conftest import Stack
from tests.e2e.openshock_accounts import new_account, problem

pytestmark = pytest.mark.timeout(300)

_CONTROL: dict[str, Any] = {
    "paused": False,
    "intensity": {"min": 10, "max": 50, "mode": "Lerp"},
    "duration": {"min": 300, "max": 2000, "mode": "Clamp"},
}


def test_v1_and_v2_tokens_from_a_session(stack: Stack) -> None:
    account = new_account(stack.url)
    with account.http() as c:
        v1 = c.post("/1/tokens", json={"name": "old style"})
        assert v1.status_code == 200, v1.text
        made = v1.json()
        # The real API says createdAt; createdOn beside it is for the official SDK.
        assert made["createdAt"] == made["createdOn"]
        assert made["permissions"] == ["shockers.use"]  # v1's default
        assert made["lastUsed"] == "0001-01-01T00:00:00" and "shockerControl" not in made
        v2 = c.post(
            "/2/tokens",
            json={
                "name": "scoped",
                "permissions": ["shockers.use", "devices.edit"],
                "shockerControl": _CONTROL,
                "validUntil": "2099-01-01T00:00:00Z",
            },
        )
        assert v2.status_code == 200, v2.text
        assert v2.json()["shockerControl"] == _CONTROL
        assert v2.json()["validUntil"].startswith("2099-01-01T00:00:00")
        listed = c.get("/2/tokens").json()
        # "e2e" is the token every test account is made with.
        assert {t["name"] for t in listed} == {"e2e", "old style", "scoped"}
        scoped = c.get(f"/2/tokens/{v2.json()['id']}").json()
        assert scoped["shockerControl"] == _CONTROL and scoped["lastUsed"] is None
        assert set(c.get(f"/1/tokens/{v2.json()['id']}").json()) == {
            "id", "name", "createdOn", "validUntil", "lastUsed", "permissions"
        }  # fmt: skip
        edited = c.patch(
            f"/2/tokens/{v2.json()['id']}",
            json={"name": "renamed", "permissions": ["shockers.use"], "shockerControl": _CONTROL},
        )
        assert edited.status_code == 200, edited.text
        assert c.get(f"/2/tokens/{v2.json()['id']}").json()["name"] == "renamed"
        paused = c.patch(f"/2/tokens/{v2.json()['id']}/paused", json={"paused": True})
        assert paused.json() == {"paused": True}
        assert c.get(f"/2/tokens/{v2.json()['id']}").json()["shockerControl"]["paused"] is True
        assert c.delete(f"/1/tokens/{made['id']}").status_code == 200
        problem(c.delete(f"/1/tokens/{made['id']}"), 404, "ApiToken.NotFound")
        problem(c.get(f"/1/tokens/{made['id']}"), 404, "ApiToken.NotFound")


def test_token_refusals_in_the_body(stack: Stack) -> None:
    account = new_account(stack.url)
    with account.http() as c:
        no_control = c.post("/2/tokens", json={"name": "x", "permissions": []})
        assert "shockerControl" in problem(no_control, 400, "Validation.Error")["errors"]
        bad = dict(_CONTROL, intensity={"min": 60, "max": 50, "mode": "Clamp"})
        refused = c.post("/2/tokens", json={"name": "x", "permissions": [], "shockerControl": bad})
        errors = problem(refused, 400, "Validation.Error")["errors"]
        assert "shockerControl.intensity" in errors
        unknown = c.post("/1/tokens", json={"name": "x", "permissions": ["shockers.fly"]})
        assert "permissions[0]" in problem(unknown, 400, "Validation.Error")["errors"]
        problem(c.post("/1/tokens", json={"name": ""}), 400, "Validation.Error")
        problem(c.post("/1/tokens", json={"name": "n" * 65}), 400, "Validation.Error")


def test_a_token_cannot_mint_tokens_and_reads_only_itself(stack: Stack) -> None:
    account = new_account(stack.url)
    token, token_id = account.token(permissions=["shockers.use"])
    sdk = OpenShockClient(api_token=token, base_url=stack.url)
    me = sdk.account.token_self()
    assert str(me.id) == token_id and me.permissions == ["shockers.use"]
    # The real tokens controller is the session scheme's: the SDK's list_tokens and
    # create_token cannot work with an API token (401), against the real API or here.
    with pytest.raises(OpenShockAuthError):
        sdk.account.list_tokens()
    with pytest.raises(OpenShockAuthError):
        sdk.account.create_token("more", ["shockers.use"])
    with account.with_token(token) as c:
        problem(c.get("/1/tokens"), 401, "Authentication.CookieMissingOrInvalid")
        assert c.get("/2/tokens/self").json()["shockerControl"]["paused"] is False
    with account.http() as c:
        problem(c.get("/1/tokens/self"), 401, "Authentication.HeaderMissingOrInvalid")


def test_a_token_deletes_itself_and_nothing_else(stack: Stack) -> None:
    account = new_account(stack.url)
    token, token_id = account.token()
    _, other_id = account.token()
    with account.with_token(token) as c:
        problem(c.delete(f"/1/tokens/{other_id}"), 403, "ApiToken.CanOnlyDeleteSelf")
        OpenShockClient(api_token=token, base_url=stack.url).account.revoke_token(token_id)
        problem(c.get("/1/users/self"), 401, "Authentication.TokenInvalid")
    with account.http() as c:
        left = [t["id"] for t in c.get("/1/tokens").json()]
        assert other_id in left and token_id not in left


def test_other_users_tokens_are_not_found(stack: Stack) -> None:
    alice, bob = new_account(stack.url, "alice"), new_account(stack.url, "bob")
    _, alices = alice.token()
    with bob.http() as c:
        problem(c.get(f"/2/tokens/{alices}"), 404, "ApiToken.NotFound")
        problem(
            c.patch(f"/2/tokens/{alices}/paused", json={"paused": True}), 404, "ApiToken.NotFound"
        )
        problem(c.delete(f"/1/tokens/{alices}"), 404, "ApiToken.NotFound")


def test_token_without_permission_and_paused_token(stack: Stack) -> None:
    account = new_account(stack.url)
    token, token_id = account.token(permissions=["shockers.use"])
    with account.with_token(token) as c:
        refused = c.post("/2/devices", json={"name": "Hub"})
        body = problem(refused, 403, "Authorization.Token.PermissionMissing")
        assert body["requiredPermission"] == "devices.edit"
        assert body["grantedPermissions"] == ["shockers.use"]
    with account.http() as c:
        assert c.patch(f"/2/tokens/{token_id}/paused", json={"paused": True}).status_code == 200
    control = {
        "shocks": [
            {
                "id": "00000000-0000-0000-0000-000000000001",
                "type": "Vibrate",
                "intensity": 10,
                "duration": 1000,
            }
        ]
    }
    with account.with_token(token) as c:
        problem(c.post("/2/shockers/control", json=control), 403, "ApiToken.Paused")
