"""Implicit and hybrid response types, with their id_token hash checks, and form_post."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import HybridIDToken, ImplicitIDToken
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.test_identity_authorize import PASSWORD, REDIRECT, Browser

RESPONSE_TYPES = [
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
]


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("hybrid")) as stack:
        yield stack


@pytest.fixture(scope="module")
def account(idp: Stack) -> dict[str, str]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    idp.cli("users", "create", "--email", email, "--name", "Barbara Liskov", stdin=PASSWORD + "\n")
    created = json.loads(
        idp.cli(
            "clients",
            "create",
            "--name",
            "SPA",
            "--redirect-uri",
            REDIRECT,
            "--grant-types",
            "authorization_code,implicit,refresh_token",
            "--scopes",
            "openid profile",
        ).stdout
    )
    return {"email": email, **created}


def fragment_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT) and "#" in location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


def verified(idp: Stack, id_token: str) -> tuple[dict[str, object], dict[str, object]]:
    jwks = KeySet.import_key_set(
        httpx.get(f"{idp.url}/.well-known/openid-configuration/jwks").json()
    )
    decoded = jose_jwt.decode(id_token, jwks)
    return dict(decoded.claims), dict(decoded.header)


@pytest.mark.parametrize("response_type", RESPONSE_TYPES)
def test_each_response_type_with_its_id_token_checks(
    idp: Stack, account: dict[str, str], response_type: str
) -> None:
    oauth = OAuth2Client(
        client_id=account["client_id"], redirect_uri=REDIRECT, scope="openid profile"
    )
    nonce = uuid.uuid4().hex
    url, state = oauth.create_authorization_url(
        f"{idp.url}/connect/authorize", response_type=response_type, nonce=nonce
    )
    browser = Browser(idp)
    response = browser.login(browser.open(url), account["email"], PASSWORD)
    if response.headers.get("location", "").startswith("/connect/authorize"):
        response = browser.open(response.headers["location"])
    if response.status_code == 200:
        response = browser.consent(response)
    params = fragment_params(response)
    assert params["state"] == state
    parts = set(response_type.split())
    assert ("id_token" in params) == ("id_token" in parts)
    assert ("access_token" in params) == ("token" in parts)
    assert ("code" in params) == ("code" in parts)
    if "id_token" in response_type:
        claims, header = verified(idp, params["id_token"])
        token_class = HybridIDToken if "code" in response_type else ImplicitIDToken
        checks = token_class(
            claims,
            header,
            options={"iss": {"value": idp.url}},
            params={
                "nonce": nonce,
                "client_id": account["client_id"],
                "access_token": params.get("access_token"),
                "code": params.get("code"),
            },
        )
        checks.validate()  # nonce, at_hash when a token came along, c_hash when a code did
        if "code" in response_type:
            assert "c_hash" in claims
        if "token" in response_type.split():
            assert "at_hash" in claims
    if "code" in response_type:
        assert params["code"]
    if "token" in response_type.split():
        info = httpx.get(
            f"{idp.url}/connect/userinfo",
            headers={"Authorization": f"Bearer {params['access_token']}"},
        )
        assert info.status_code == 200


def test_form_post_response_mode(idp: Stack, account: dict[str, str]) -> None:
    oauth = OAuth2Client(client_id=account["client_id"], redirect_uri=REDIRECT, scope="openid")
    url, state = oauth.create_authorization_url(
        f"{idp.url}/connect/authorize",
        response_type="id_token",
        nonce="n-1",
        response_mode="form_post",
    )
    browser = Browser(idp)
    response = browser.login(browser.open(url), account["email"], PASSWORD)
    if response.headers.get("location", "").startswith("/connect/authorize"):
        response = browser.open(response.headers["location"])
    if "Allow access?" in response.text:
        response = browser.consent(response)
    assert response.status_code == 200 and '<form method="post"' in response.text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', response.text))
    assert unquote(unescape(fields["state"])) == state
    assert unquote(unescape(fields["id_token"])).count(".") == 2


def test_implicit_needs_a_nonce_and_the_grant_type(idp: Stack, account: dict[str, str]) -> None:
    browser = Browser(idp)
    browser.login(
        browser.open(
            f"/connect/authorize?client_id={account['client_id']}&response_type=code"
            f"&scope=openid&redirect_uri={REDIRECT}"
        ),
        account["email"],
        PASSWORD,
    )
    no_nonce = browser.open(
        f"/connect/authorize?client_id={account['client_id']}&response_type=id_token&scope=openid&redirect_uri={REDIRECT}"
    )
    assert fragment_params(no_nonce)["error"] == "invalid_request"
    code_only_client = json.loads(
        idp.cli(
            "clients",
            "create",
            "--name",
            "code only",
            "--redirect-uri",
            REDIRECT,
            "--grant-types",
            "authorization_code",
            "--scopes",
            "openid",
        ).stdout
    )
    refused = browser.open(
        f"/connect/authorize?client_id={code_only_client['client_id']}&response_type=id_token%20token"
        f"&scope=openid&nonce=x&redirect_uri={REDIRECT}"
    )
    location = refused.headers.get("location", "")
    assert "unauthorized_client" in location or "unsupported_response_type" in location
