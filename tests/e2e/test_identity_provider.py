"""Provider-wide behaviour: discovery as authlib validates it, key rotation, end session."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.discovery import OpenIDProviderMetadata

from tests.e2e.conftest import Stack, build_stack, running_stack

PASSWORD = "correct horse battery staple"
ISSUER = "https://id.example.com"


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("provider")) as stack:
        yield stack


@pytest.fixture(scope="module")
def https_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """As deployed behind a TLS proxy: the issuer is the public https URL."""
    stack = build_stack(
        "embedded", Path(tmp_path_factory.mktemp("https")), env={"HUBLINE_ISSUER": ISSUER}
    )
    stack.start()
    yield stack
    stack.stop()


def test_discovery_passes_authlib_metadata_validation(https_idp: Stack) -> None:
    document = httpx.get(f"{https_idp.url}/.well-known/openid-configuration").json()
    assert document["issuer"] == ISSUER
    OpenIDProviderMetadata(document).validate()


def password_token(
    stack: Stack, scope: str = "openid profile"
) -> tuple[dict[str, str], dict[str, str]]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    stack.cli("users", "create", "--email", email, "--name", "Kay", stdin=PASSWORD + "\n")
    client = json.loads(
        stack.cli(
            "clients",
            "create",
            "--name",
            "app",
            "--grant-types",
            "password,refresh_token",
            "--redirect-uri",
            "https://app.example.com/cb",
            "--scopes",
            "openid profile offline_access",
        ).stdout
    )
    with OAuth2Client(client["client_id"], client["client_secret"]) as oauth:
        token = oauth.fetch_token(
            f"{stack.url}/connect/token", username=email, password=PASSWORD, scope=scope
        )
    return dict(token), client


def userinfo_status(stack: Stack, access_token: str) -> int:
    return httpx.get(
        f"{stack.url}/connect/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    ).status_code


def test_key_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(
    idp: Stack,
) -> None:
    before, _ = password_token(idp)
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
    new_kids = idp.cli("keys", "rotate").stdout.split()
    assert len(new_kids) == 2
    time.sleep(6)  # nodes re-read the key ring every few seconds
    published = {
        k["kid"]
        for k in httpx.get(f"{idp.url}/.well-known/openid-configuration/jwks").json()["keys"]
    }
    assert old_kid in published and set(new_kids) <= published
    after, _ = password_token(idp)
    assert jwt.get_unverified_header(after["access_token"])["kid"] in new_kids
    assert userinfo_status(idp, before["access_token"]) == 200
    assert userinfo_status(idp, after["access_token"]) == 200


def test_end_session_clears_the_session_and_returns_only_to_registered_uris(idp: Stack) -> None:
    browser = httpx.Client(base_url=idp.url, timeout=30)
    browser.cookies.set("hubline.session", "anything")
    plain = browser.get("/connect/endsession")
    assert plain.status_code == 200 and "Signed out" in plain.text
    assert (
        'hubline.session=""' in plain.headers["set-cookie"]
        or "Max-Age=0" in plain.headers["set-cookie"]
    )
    stranger = browser.get(
        "/connect/endsession", params={"post_logout_redirect_uri": "https://evil.example.com/"}
    )
    assert stranger.status_code == 200  # no id_token_hint: no redirect anywhere


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("limited"), env={"HUBLINE_RATE_LIMIT_RULES": "3/1m,5/7d"}
    ) as stack:
        yield stack


def test_rate_limits_per_user_and_client_in_aspnetcoreratelimit_format(limited: Stack) -> None:
    token, _ = password_token(limited)
    other, _ = password_token(limited)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    allowed = [httpx.get(f"{limited.url}/connect/userinfo", headers=headers) for _ in range(3)]
    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert allowed[0].headers["X-Rate-Limit-Limit"] == "7d"
    assert [r.headers["X-Rate-Limit-Remaining"] for r in allowed] == ["4", "3", "2"]
    assert allowed[0].headers["X-Rate-Limit-Reset"].endswith("0Z")
    blocked = httpx.get(f"{limited.url}/connect/userinfo", headers=headers)
    assert blocked.status_code == 429
    assert blocked.headers["content-type"].startswith("text/plain")
    assert blocked.text == "API calls quota exceeded! maximum admitted 3 per 1m."
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert "X-Rate-Limit-Limit" not in blocked.headers
    # Another user of another client is not affected.
    assert userinfo_status(limited, other["access_token"]) == 200


def test_an_address_that_keeps_failing_is_refused(tmp_path: Path) -> None:
    stack = build_stack("embedded", tmp_path, env={"HUBLINE_LOGIN_FAILURES_PER_ADDRESS": "3"})
    stack.start()
    try:
        email = f"user-{uuid.uuid4().hex[:8]}@example.com"
        stack.cli("users", "create", "--email", email, "--name", "Kay", stdin=PASSWORD + "\n")
        client = json.loads(
            stack.cli("clients", "create", "--name", "app", "--grant-types", "password").stdout
        )
        with OAuth2Client(client["client_id"], client["client_secret"]) as oauth:
            for n in range(3):
                with pytest.raises(OAuthError):
                    oauth.fetch_token(
                        f"{stack.url}/connect/token",
                        username=f"nobody{n}@example.com",
                        password="x" * 8,
                    )
            with pytest.raises(OAuthError):  # the right password, from a refused address
                oauth.fetch_token(f"{stack.url}/connect/token", username=email, password=PASSWORD)
        events = stack.cli("events", "export").stdout
        assert "too many failed logins from this address" in events
    finally:
        stack.stop()
