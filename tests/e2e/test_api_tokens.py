"""User-owned API tokens: created over REST with an access token, used with either header."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from tests.e2e.conftest import Stack, running_stack

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("tokens")) as stack:
        yield stack


def login(stack: Stack, role: str | None = None) -> dict[str, str]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    stack.cli(
        "users",
        "create",
        "--email",
        email,
        "--name",
        "Owner",
        *(["--role", role] if role else []),
        stdin=PASSWORD + "\n",
    )
    client = json.loads(
        stack.cli("clients", "create", "--name", "cli", "--grant-types", "password").stdout
    )
    with OAuth2Client(client["client_id"], client["client_secret"]) as oauth:
        token = oauth.fetch_token(
            f"{stack.url}/connect/token", username=email, password=PASSWORD, scope="openid"
        )
    return {"Authorization": f"Bearer {token['access_token']}", "email": email}


def test_create_use_list_and_revoke_my_token(hub: Stack) -> None:
    admin = login(hub, "admin")
    auth = {"Authorization": admin["Authorization"]}
    created = httpx.post(
        f"{hub.url}/api/v1/tokens",
        json={"name": "home assistant", "permissions": ["deviceAuth:read"], "validForDays": 30},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (
        body["token"].startswith("hbl_")
        and body["expiresAt"]
        and body["permissions"] == ["deviceAuth:read"]
    )
    # OpenShock's header and the standard bearer header both work.
    for headers in (
        {"Open-Shock-Token": body["token"]},
        {"Authorization": f"Bearer {body['token']}"},
    ):
        assert httpx.get(f"{hub.url}/api/v1/deviceauth", headers=headers).status_code == 200
    assert (
        httpx.delete(
            f"{hub.url}/api/v1/deviceauth", headers={"Open-Shock-Token": body["token"]}
        ).status_code
        == 403
    )
    deadline = time.monotonic() + 10
    while True:
        listed = httpx.get(f"{hub.url}/api/v1/tokens", headers=auth).json()
        mine = next(t for t in listed if t["id"] == body["id"])
        if mine["lastUsedAt"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert mine["lastUsedAt"] and "token" not in mine
    assert httpx.delete(f"{hub.url}/api/v1/tokens/{body['id']}", headers=auth).status_code == 204
    assert (
        httpx.get(
            f"{hub.url}/api/v1/deviceauth", headers={"Open-Shock-Token": body["token"]}
        ).status_code
        == 401
    )
    listed_after = httpx.get(f"{hub.url}/api/v1/tokens", headers=auth).json()
    assert next(t for t in listed_after if t["id"] == body["id"])["revokedAt"]


def test_tokens_hold_no_more_than_their_owner_and_stay_private(hub: Stack) -> None:
    plain = login(hub)
    auth = {"Authorization": plain["Authorization"]}
    refused = httpx.post(
        f"{hub.url}/api/v1/tokens",
        json={"name": "x", "permissions": ["deviceAuth:delete"]},
        headers=auth,
    )
    assert refused.status_code == 403 and "deviceAuth:delete" in refused.json()["detail"]
    bad = httpx.post(
        f"{hub.url}/api/v1/tokens", json={"name": "x", "permissions": ["nonsense"]}, headers=auth
    )
    assert bad.status_code == 400
    mine = httpx.post(
        f"{hub.url}/api/v1/tokens",
        json={"name": "ok", "permissions": ["tokens:read"]},
        headers=auth,
    ).json()
    stranger = {"Authorization": login(hub)["Authorization"]}
    assert (
        httpx.delete(f"{hub.url}/api/v1/tokens/{mine['id']}", headers=stranger).status_code == 404
    )
    assert all(
        t["id"] != mine["id"]
        for t in httpx.get(f"{hub.url}/api/v1/tokens", headers=stranger).json()
    )
    assert httpx.get(f"{hub.url}/api/v1/tokens").status_code == 401


def test_cli_lists_tokens_with_their_owner(hub: Stack) -> None:
    admin = login(hub, "admin")
    created = hub.cli(
        "tokens",
        "create",
        "--name",
        "ops",
        "--permissions",
        "audit:read",
        "--owner",
        admin["email"],
    )
    token_id = created.stderr.split("token id: ")[1].split()[0]
    listing = hub.cli("tokens", "list").stdout
    line = next(line for line in listing.splitlines() if line.startswith(token_id))
    assert "ops" in line and "owner=" in line and "owner=-" not in line


def test_administrators_register_and_list_users(hub: Stack) -> None:
    admin = {"Authorization": login(hub, "admin")["Authorization"]}
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    created = httpx.post(
        f"{hub.url}/api/v1/users",
        json={"email": email, "name": "New Person", "password": PASSWORD, "roles": ["user"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    listed = httpx.get(f"{hub.url}/api/v1/users", headers=admin).json()
    entry = next(u for u in listed if u["email"] == email)
    assert entry["subject"] == created.json()["subject"] and "password" not in json.dumps(entry)
    again = httpx.post(
        f"{hub.url}/api/v1/users",
        json={"email": email.upper(), "name": "Dup", "password": PASSWORD},
        headers=admin,
    )
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    short = httpx.post(
        f"{hub.url}/api/v1/users",
        json={"email": "x@example.com", "name": "X", "password": "short"},
        headers=admin,
    )
    assert short.status_code == 400
    plain = {"Authorization": login(hub)["Authorization"]}
    assert httpx.get(f"{hub.url}/api/v1/users", headers=plain).status_code == 403


def test_administrators_register_thermostats_to_owners(hub: Stack) -> None:
    admin = {"Authorization": login(hub, "admin")["Authorization"]}
    owner = login(hub)
    serial = uuid.uuid4().hex[:8].upper()
    created = httpx.post(
        f"{hub.url}/api/v1/admin/thermostats",
        json={"serialNumber": serial.lower(), "ownerEmail": owner["email"], "name": "Hall"},
        headers=admin,
    )
    assert created.status_code == 201 and created.json()["serialNumber"] == serial
    again = httpx.post(
        f"{hub.url}/api/v1/admin/thermostats",
        json={"serialNumber": serial, "ownerEmail": owner["email"]},
        headers=admin,
    )
    assert again.status_code == 400
    plain = {"Authorization": owner["Authorization"]}
    refused = httpx.post(
        f"{hub.url}/api/v1/admin/thermostats",
        json={"serialNumber": "X1", "ownerEmail": owner["email"]},
        headers=plain,
    )
    assert refused.status_code == 403
