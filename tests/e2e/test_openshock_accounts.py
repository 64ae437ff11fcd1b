"""OpenShock accounts, sessions and meta against `hubline serve`: plain HTTP, and the official
`openshock` SDK (0.1.0b1, unmodified) for what it can do against the real API."""

from __future__ import annotations

import secrets

import pytest
from openshock import OpenShockClient
from openshock.exceptions import OpenShockAuthError

from tests.e2e.conftest import Stack
from tests.e2e.openshock_accounts import PASSWORD, USER_AGENT, http_client, new_account, problem

pytestmark = pytest.mark.timeout(300)


def test_meta_through_the_sdk(stack: Stack) -> None:
    account = new_account(stack.url)
    sdk = OpenShockClient(api_token=account.api_token, base_url=stack.url)
    info = sdk.meta.backend_info()
    assert info.version and info.is_user_authenticated is True
    assert sdk.meta.online_stats().devices_online == 0
    with http_client(stack.url) as anonymous:
        body = anonymous.get("/1").json()
        assert body["message"] == "OpenShock"
        assert body["data"]["isUserAuthenticated"] is False
        # A credential that is not valid makes no user here, and no error.
        body = anonymous.get("/1", headers={"OpenShockToken": "nope"}).json()
        assert body["data"]["isUserAuthenticated"] is False


def test_an_operator_makes_an_account_and_its_token_with_the_cli(stack: Stack) -> None:
    """As the README shows: `hubline users create --username`, then `hubline tokens create
    --owner` with OpenShock permissions, which the SDK authenticates with."""
    username = f"cli_{secrets.token_hex(4)}"
    email = f"{username}@example.com"
    stack.cli("users", "create", "--email", email, "--username", username, stdin=PASSWORD + "\n")
    made = stack.cli(
        "tokens", "create", "--name", "sdk", "--permissions", "shockers.use,devices.edit",
        "--owner", email,
    )  # fmt: skip
    token = str(made.stdout.strip().splitlines()[-1])
    with OpenShockClient(api_token=token, base_url=stack.url) as sdk:
        me = sdk.account.user_self()
        assert (me.name, me.email) == (username, email)
        assert sorted(sdk.account.token_self().permissions) == ["devices.edit", "shockers.use"]
    with http_client(stack.url) as c:
        hub = c.post("/2/devices", json={"name": "Desk"}, headers={"OpenShockToken": token})
        assert hub.status_code == 201, hub.text
        login = c.post("/2/account/login", json={"usernameOrEmail": username, "password": PASSWORD})
        assert login.status_code == 200, login.text


def test_login_sets_the_session_cookie_and_sessions_list_and_end(stack: Stack) -> None:
    account = new_account(stack.url)
    with http_client(stack.url, account.address) as c:
        login = c.post(
            "/2/account/login",
            json={"usernameOrEmail": account.email.upper(), "password": PASSWORD},
        )
        assert login.status_code == 200, login.text
        assert login.json()["accountName"] == account.username
        assert login.json()["isVerified"] is True
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "Max-Age=2592000" in cookie
        assert "samesite=lax" in cookie.lower() and "Path=/" in cookie
        second = login.cookies["openShockSession"]
    with account.http() as c:
        sessions = c.get("/1/sessions")
        assert sessions.status_code == 200, sessions.text
        assert len(sessions.json()) == 2
        assert {"id", "ip", "userAgent", "created", "expires", "lastUsed"} <= set(
            sessions.json()[0]
        )
        me = c.get("/1/sessions/self").json()
        assert me["userAgent"] == USER_AGENT
        other = next(s["id"] for s in sessions.json() if s["id"] != me["id"])
        assert c.delete(f"/1/sessions/{other}").status_code == 200
        problem(c.delete(f"/1/sessions/{other}"), 404, "Session.NotFound")
    # The header works as the cookie does; the ended session no longer works at all.
    with http_client(stack.url, account.address, OpenShockSession=account.session) as c:
        assert c.get("/1/users/self").json()["data"]["name"] == account.username
    with http_client(stack.url, account.address, OpenShockSession=second) as c:
        problem(c.get("/1/users/self"), 401, "Authentication.SessionInvalid")


def test_logout_ends_the_session_and_clears_the_cookie(stack: Stack) -> None:
    account = new_account(stack.url)
    with account.http() as c:
        out = c.post("/1/account/logout")
        assert out.status_code == 200
        assert 'openShockSession=""' in out.headers["set-cookie"]
    with http_client(stack.url, account.address, OpenShockSession=account.session) as c:
        problem(c.get("/1/users/self"), 401, "Authentication.SessionInvalid")
        # Logging out again (or without a session) is still a success.
        assert c.post("/1/account/logout").status_code == 200


def test_signup_and_login_refusals(stack: Stack) -> None:
    account = new_account(stack.url)
    with http_client(stack.url) as c:
        taken = c.post(
            "/2/account/signup",
            json={
                "username": account.username.upper(),
                "password": PASSWORD,
                "email": "someone-else@example.com",
            },
        )
        body = problem(taken, 409, "Signup.UsernameOrEmailExists")
        assert body["detail"] is None  # says neither which, nor whose
        invalid = c.post(
            "/2/account/signup", json={"username": "ab", "password": "short", "email": "x"}
        )
        errors = problem(invalid, 400, "Validation.Error")["errors"]
        assert set(errors) == {"username", "password", "email"}
        wrong = c.post(
            "/2/account/login", json={"usernameOrEmail": account.username, "password": "nope"}
        )
        problem(wrong, 401, "Login.InvalidCredentials")
        unknown = c.post(
            "/2/account/login", json={"usernameOrEmail": "nobody_here", "password": PASSWORD}
        )
        problem(unknown, 401, "Login.InvalidCredentials")
        retired = problem(c.post("/1/account/login", json={}), 410, "Endpoint.Retired")
        assert "POST /2/account/login" in str(retired["detail"])


def test_users_self_by_name_and_username_check(stack: Stack) -> None:
    account = new_account(stack.url)
    token, _ = account.token(permissions=[])
    user = OpenShockClient(api_token=token, base_url=stack.url).account.user_self()
    assert str(user.id) == account.user_id and user.name == account.username
    assert user.email == account.email and user.rank == "User"
    with account.with_token(token) as c:
        found = c.get(f"/1/users/by-name/{account.username.upper()}")
        assert found.json() == {
            "id": account.user_id,
            "name": account.username,
            "image": found.json()["image"],
        }
        problem(c.get("/1/users/by-name/nobody_at_all"), 404, "User.NotFound")
        check = c.post("/1/account/username/check", json={"username": account.username})
        assert check.json() == {"availability": "Taken", "error": None}
        check = c.post("/1/account/username/check", json={"username": "free_name_42x"})
        assert check.json()["availability"] == "Available"
        check = c.post("/1/account/username/check", json={"username": "a@b"})
        assert check.json()["availability"] == "Invalid"
        assert check.json()["error"]["type"] == "ResembleEmail"


def test_password_and_username_change_with_a_session_only(stack: Stack) -> None:
    account = new_account(stack.url)
    token, _ = account.token()
    with account.with_token(token) as c:
        refused = c.post(
            "/1/account/password", json={"currentPassword": PASSWORD, "newPassword": "x" * 20}
        )
        problem(refused, 401, "Authentication.CookieMissingOrInvalid")
    new_password = "another long password"
    with account.http() as c:
        wrong = c.post(
            "/1/account/password", json={"currentPassword": "nope", "newPassword": new_password}
        )
        problem(wrong, 403, "Account.Password.OldPasswordInvalid")
        changed = c.post(
            "/1/account/password",
            json={"currentPassword": PASSWORD, "newPassword": new_password},
        )
        assert changed.status_code == 200, changed.text
        renamed = c.post("/1/account/username", json={"username": account.username + "_x"})
        assert renamed.status_code == 200, renamed.text
        again = c.post("/1/account/username", json={"username": account.username + "_y"})
        problem(again, 403, "Account.Username.RecentlyChanged")
    with http_client(stack.url, account.address) as c:
        login = c.post(
            "/2/account/login",
            json={"usernameOrEmail": account.username + "_x", "password": new_password},
        )
        assert login.status_code == 200, login.text


def test_sdk_session_routes_cannot_work_with_a_token(stack: Stack) -> None:
    """The SDK authenticates with API tokens only; /1/sessions is session-only on the real
    backend (its controller does not even look at tokens), so `sessions.list()`
    cannot work against it, nor here."""
    account = new_account(stack.url)
    sdk = OpenShockClient(api_token=account.api_token, base_url=stack.url)
    with pytest.raises(OpenShockAuthError):
        sdk.sessions.list()
