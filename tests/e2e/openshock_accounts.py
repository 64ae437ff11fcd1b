"""OpenShock accounts for the e2e tests: signed up and logged in over plain HTTP, each with an
API token holding every permission, and the hubs and shockers they own.

Each account talks from its own loopback address (127.x.y.z): login, signup and pairing are
limited to 10 a minute per address, as on the real backend, and tests make many accounts.
Each test makes its own accounts, so that the per-user limit (120 a minute) and the 4-hub
limit never meet across tests. (An operator's account made with the CLI has its own test in
test_openshock_accounts.py.)
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

USER_AGENT = "hubline-e2e/1.0"
PASSWORD = "correct horse battery staple"
ALL_PERMISSIONS = [
    "shockers.use",
    "shockers.edit",
    "shockers.pause",
    "devices.edit",
    "devices.auth",
    "usershares.edit",
    "usershares.pause",
    "publicshares.edit",
    "publicshares.pause",
]
NO_SCOPING: dict[str, Any] = {
    "paused": False,
    "intensity": {"min": 0, "max": 100, "mode": "Clamp"},
    "duration": {"min": 300, "max": 65535, "mode": "Clamp"},
}


def loopback_address() -> str:
    """A loopback address of its own (every 127/8 address reaches a server on 127.0.0.1)."""
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


def http_client(base_url: str, address: str | None = None, **headers: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        headers={"User-Agent": USER_AGENT, **headers},
        transport=httpx.HTTPTransport(local_address=address or loopback_address()),
        timeout=30,
    )


def problem(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    """The response is OpenShock's problem `type_` with `status`, in its whole format."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == type_, body
    assert body["status"] == status
    assert body["requestId"] and body["traceId"] == body["requestId"]
    assert body["message"] == (body["detail"] or body["title"])
    return body


@dataclass
class Account:
    base_url: str
    address: str
    username: str
    email: str
    user_id: str
    session: str  # the openShockSession token
    api_token: str  # every permission, no scoping: what the SDK is given

    @property
    def headers(self) -> dict[str, str]:
        """The API token's headers, for a request on any client."""
        return {"OpenShockToken": self.api_token, "User-Agent": USER_AGENT}

    def http(self) -> httpx.Client:
        """A client that sends the session in its cookie."""
        c = http_client(self.base_url, self.address)
        c.cookies.set("openShockSession", self.session)
        return c

    def token(
        self, permissions: list[str] | None = None, control: dict[str, Any] | None = None
    ) -> tuple[str, str]:
        """A new API token (v2) and its id."""
        with self.http() as session:
            return _new_token(session, permissions, control)

    def with_token(self, token: str | None = None) -> httpx.Client:
        """A client that sends `token` (by default the account's own API token)."""
        return http_client(self.base_url, self.address, OpenShockToken=token or self.api_token)


def new_account(base_url: str, prefix: str = "user") -> Account:
    address = loopback_address()
    username = f"{prefix}_{secrets.token_hex(4)}"
    email = f"{username}@example.com"
    with http_client(base_url, address) as c:
        signup = c.post(
            "/2/account/signup",
            json={"username": username, "password": PASSWORD, "email": email},
        )
        assert signup.status_code == 200, signup.text
        login = c.post(
            "/2/account/login",
            json={"usernameOrEmail": username, "password": PASSWORD, "turnstileResponse": ""},
        )
        assert login.status_code == 200, login.text
        session = login.cookies["openShockSession"]
        c.cookies.set("openShockSession", session)
        api_token, _ = _new_token(c, None, None)
    return Account(
        base_url, address, username, email, login.json()["accountId"], session, api_token
    )


def _new_token(
    session: httpx.Client, permissions: list[str] | None, control: dict[str, Any] | None
) -> tuple[str, str]:
    body = {
        "name": "e2e",
        "permissions": ALL_PERMISSIONS if permissions is None else permissions,
        "shockerControl": control or NO_SCOPING,
    }
    answer = session.post("/2/tokens", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"], answer.json()["id"]


def create_hub(http: httpx.Client, account: Account, name: str = "Hub") -> str:
    response = http.post("/2/devices", json={"name": name}, headers=account.headers)
    assert response.status_code == 201, response.text
    return str(response.json())


def add_shocker(
    http: httpx.Client, account: Account, hub_id: str, rf_id: int = 1, model: str = "CaiXianlin"
) -> str:
    response = http.post(
        "/1/shockers",
        json={"name": f"Shocker {rf_id}", "rfId": rf_id, "device": hub_id, "model": model},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["data"])


def paired_hub_token(http: httpx.Client, account: Account, hub_id: str) -> str:
    """The hub's token, as a hub gets it: an owner's pair code, redeemed once."""
    code = http.get(f"/1/devices/{hub_id}/pair", headers=account.headers).json()["data"]
    redeemed = http.get(f"/1/device/pair/{code}")
    assert redeemed.status_code == 200, redeemed.text
    return str(redeemed.json()["data"])
