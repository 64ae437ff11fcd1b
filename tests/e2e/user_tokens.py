"""A person's access token, got as a client would: the password grant at /connect/token."""

from __future__ import annotations

import json
import uuid

from authlib.integrations.httpx_client import OAuth2Client

from tests.e2e.conftest import Stack

PASSWORD = "correct horse battery staple"
SCOPES = "openid profile email restapi offline_access"


def user_access_token(stack: Stack, role: str = "user") -> str:
    """A new user's access token (with SENZ's restapi scope), owning one thermostat."""
    email = f"person-{uuid.uuid4().hex[:8]}@example.com"
    stack.cli(
        "users", "create", "--email", email, "--name", "Person", "--role", role,
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    serial = uuid.uuid4().hex[:8].upper()
    stack.cli("thermostats", "add", "--serial", serial, "--owner", email, "--name", "Hall")
    client = json.loads(
        stack.cli(
            "clients", "create", "--name", f"app-{serial}",
            "--grant-types", "password,refresh_token", "--scopes", SCOPES,
        ).stdout
    )  # fmt: skip
    with OAuth2Client(client["client_id"], client["client_secret"], timeout=30) as oauth:
        token = oauth.fetch_token(
            f"{stack.url}/connect/token", username=email, password=PASSWORD, scope=SCOPES
        )
    return str(token["access_token"])
