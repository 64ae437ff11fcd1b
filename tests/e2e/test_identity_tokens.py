"""The token endpoint, driven by authlib's OAuth 2.0 client (a client we did not write)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
import jwt
import pytest
from authlib.integrations.base_client.errors import OAuthError as OAuth2Error
from authlib.integrations.httpx_client import OAuth2Client

from tests.e2e.conftest import Stack

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def idp(stack: Stack) -> Stack:
    """The provider on both deployments (the module-scoped `stack` of tests/e2e/conftest.py)."""
    return stack


def new_user(stack: Stack) -> str:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    stack.cli("users", "create", "--email", email, "--name", "Ada Lovelace", stdin=PASSWORD + "\n")
    return email


def new_client(
    stack: Stack, grant_types: str = "password,refresh_token,client_credentials"
) -> dict[str, str]:
    created = stack.cli(
        "clients",
        "create",
        "--name",
        "SENZ sample",
        "--grant-types",
        grant_types,
        "--scopes",
        "openid profile email restapi offline_access",
    )
    return dict(json.loads(created.stdout))


def oauth_client(
    stack: Stack, client: dict[str, str], method: str = "client_secret_basic"
) -> OAuth2Client:
    return OAuth2Client(
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        token_endpoint_auth_method=method,
        timeout=30,
    )


def test_discovery_and_jwks(idp: Stack) -> None:
    config = httpx.get(f"{idp.url}/.well-known/openid-configuration").json()
    assert config["issuer"] == idp.url
    assert config["token_endpoint"] == f"{idp.url}/connect/token"
    keys = httpx.get(config["jwks_uri"]).json()["keys"]
    assert {k["alg"] for k in keys} == {"RS256", "ES256"}
    assert all("d" not in k for k in keys)  # public halves only


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_password_grant_issues_a_jwt_access_token(idp: Stack, method: str) -> None:
    email = new_user(idp)
    client = new_client(idp)
    with oauth_client(idp, client, method) as oauth:
        token = oauth.fetch_token(
            f"{idp.url}/connect/token",
            username=email,
            password=PASSWORD,
            scope="openid profile restapi offline_access",
        )
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    assert token["refresh_token"].count(".") == 1
    header = jwt.get_unverified_header(token["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256" and header["kid"]
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["iss"] == idp.url and claims["client_id"] == client["client_id"]
    assert claims["scope"] == "openid profile restapi offline_access"
    assert {"sub", "nbf", "iat", "exp", "aud", "jti"} <= claims.keys()
    # The subject is stable: a second login yields the same sub.
    with oauth_client(idp, client) as oauth:
        again = oauth.fetch_token(f"{idp.url}/connect/token", username=email, password=PASSWORD)
    assert (
        jwt.decode(again["access_token"], options={"verify_signature": False})["sub"]
        == claims["sub"]
    )


def test_access_token_verifies_against_the_published_keys(idp: Stack) -> None:
    email = new_user(idp)
    with oauth_client(idp, new_client(idp)) as oauth:
        token = oauth.fetch_token(
            f"{idp.url}/connect/token", username=email, password=PASSWORD, scope="openid"
        )
    jwks = httpx.get(f"{idp.url}/.well-known/openid-configuration/jwks").json()
    kid = jwt.get_unverified_header(token["access_token"])["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    claims = jwt.decode(
        token["access_token"], key, algorithms=["RS256"], audience=f"{idp.url}/resources"
    )
    assert claims["iss"] == idp.url


def test_wrong_password_and_wrong_secret_are_refused(idp: Stack) -> None:
    email = new_user(idp)
    client = new_client(idp)
    with oauth_client(idp, client) as oauth, pytest.raises(OAuth2Error) as wrong_password:
        oauth.fetch_token(f"{idp.url}/connect/token", username=email, password="nope nope")
    assert wrong_password.value.error == "invalid_grant"
    bad = {**client, "client_secret": "not-the-secret"}
    with oauth_client(idp, bad) as oauth, pytest.raises(OAuth2Error) as wrong_secret:
        oauth.fetch_token(f"{idp.url}/connect/token", username=email, password=PASSWORD)
    assert wrong_secret.value.error == "invalid_client"


def test_repeated_failures_lock_the_account(idp: Stack) -> None:
    email = new_user(idp)
    client = new_client(idp)
    with oauth_client(idp, client) as oauth:
        for _ in range(5):
            with pytest.raises(OAuth2Error):
                oauth.fetch_token(
                    f"{idp.url}/connect/token", username=email, password="wrong password"
                )
        with pytest.raises(OAuth2Error):
            oauth.fetch_token(f"{idp.url}/connect/token", username=email, password=PASSWORD)
    events = idp.cli("events", "export").stdout
    assert "User.LockedOut" in events and "User.LoginFailed" in events


def test_client_credentials(idp: Stack) -> None:
    client = new_client(idp, "client_credentials")
    with oauth_client(idp, client) as oauth:
        token = oauth.fetch_token(
            f"{idp.url}/connect/token", grant_type="client_credentials", scope="restapi"
        )
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["sub"] == client["client_id"] and "refresh_token" not in token


def test_refresh_rotates_and_reuse_revokes_the_family(idp: Stack) -> None:
    email = new_user(idp)
    client = new_client(idp)
    with oauth_client(idp, client) as oauth:
        first = oauth.fetch_token(
            f"{idp.url}/connect/token",
            username=email,
            password=PASSWORD,
            scope="openid offline_access",
        )
        second = oauth.refresh_token(
            f"{idp.url}/connect/token", refresh_token=first["refresh_token"]
        )
        assert second["refresh_token"] != first["refresh_token"]
        assert second["refresh_token"].split(".")[0] == first["refresh_token"].split(".")[0]
        third = oauth.refresh_token(
            f"{idp.url}/connect/token", refresh_token=second["refresh_token"]
        )
        # An attacker replays the first token: refused, and the whole family dies with it.
        with pytest.raises(OAuth2Error) as reused:
            oauth.refresh_token(f"{idp.url}/connect/token", refresh_token=first["refresh_token"])
        assert reused.value.error == "invalid_grant"
        with pytest.raises(OAuth2Error):
            oauth.refresh_token(f"{idp.url}/connect/token", refresh_token=third["refresh_token"])
    userinfo = httpx.get(
        f"{idp.url}/connect/userinfo", headers={"Authorization": f"Bearer {third['access_token']}"}
    )
    assert userinfo.status_code == 401


def test_userinfo_revocation_and_introspection(idp: Stack) -> None:
    email = new_user(idp)
    client = new_client(idp)
    with oauth_client(idp, client) as oauth:
        token = oauth.fetch_token(
            f"{idp.url}/connect/token",
            username=email,
            password=PASSWORD,
            scope="openid profile email offline_access",
        )
        info = httpx.get(
            f"{idp.url}/connect/userinfo",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        ).json()
        assert info["email"] == email and info["name"] == "Ada Lovelace"
        posted = httpx.post(  # OIDC Core §5.3.1: UserInfo answers POST as well
            f"{idp.url}/connect/userinfo",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        assert posted.json() == info
        basic = base64.b64encode(
            f"{client['client_id']}:{client['client_secret']}".encode()
        ).decode()
        auth = {"Authorization": f"Basic {basic}"}
        active = httpx.post(
            f"{idp.url}/connect/introspect", data={"token": token["access_token"]}, headers=auth
        ).json()
        assert active["active"] is True and active["sub"] == info["sub"]
        refresh_state = httpx.post(
            f"{idp.url}/connect/introspect", data={"token": token["refresh_token"]}, headers=auth
        ).json()
        assert refresh_state["active"] is True
        oauth.revoke_token(f"{idp.url}/connect/revocation", token=token["refresh_token"])
        after = httpx.post(
            f"{idp.url}/connect/introspect", data={"token": token["access_token"]}, headers=auth
        ).json()
        assert after == {"active": False}
        with pytest.raises(OAuth2Error):
            oauth.refresh_token(f"{idp.url}/connect/token", refresh_token=token["refresh_token"])


def forged(
    idp: Stack, header: dict[str, str], claims: dict[str, object], key: bytes | str = b""
) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    body = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if header["alg"] == "none":
        return body + "."
    import hashlib
    import hmac

    return (
        body
        + "."
        + b64(
            hmac.new(
                key if isinstance(key, bytes) else key.encode(), body.encode(), hashlib.sha256
            ).digest()
        )
    )


def test_forged_and_foreign_tokens_are_refused(idp: Stack) -> None:
    email = new_user(idp)
    with oauth_client(idp, new_client(idp)) as oauth:
        token = oauth.fetch_token(
            f"{idp.url}/connect/token", username=email, password=PASSWORD, scope="openid"
        )
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    jwks = httpx.get(f"{idp.url}/.well-known/openid-configuration/jwks").json()
    kid = jwt.get_unverified_header(token["access_token"])["kid"]
    public_jwk = json.dumps(next(k for k in jwks["keys"] if k["kid"] == kid))
    attempts = {
        "alg none": forged(idp, {"alg": "none", "typ": "at+jwt", "kid": kid}, claims),
        "hmac with public key": forged(
            idp, {"alg": "HS256", "typ": "at+jwt", "kid": kid}, claims, public_jwk
        ),
        "expired": None,
        "tampered": token["access_token"][:-4]
        + ("AAAA" if not token["access_token"].endswith("AAAA") else "BBBB"),
        "garbage": "not.a.jwt",
    }
    expired_claims = {**claims, "exp": int(time.time()) - 3600}
    attempts["expired"] = forged(
        idp, {"alg": "HS256", "typ": "at+jwt", "kid": kid}, expired_claims, "x"
    )
    for name, forged_token in attempts.items():
        response = httpx.get(
            f"{idp.url}/connect/userinfo", headers={"Authorization": f"Bearer {forged_token}"}
        )
        assert response.status_code == 401, name
        assert response.json()["error"] == "invalid_token", name


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"grant_type=password&grant_type=password", "application/x-www-form-urlencoded", 400),
        (b'{"grant_type":"password"}', "application/json", 415),
        (b"grant_type=" + b"x" * 20_000, "application/x-www-form-urlencoded", 413),
        (b"grant_type=magic", "application/x-www-form-urlencoded", 400),
        (b"\xff\xfe", "application/x-www-form-urlencoded", 400),
    ],
)
def test_malformed_token_requests_get_oauth_errors(
    idp: Stack, body: bytes, content_type: str, status: int
) -> None:
    response = httpx.post(
        f"{idp.url}/connect/token", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    assert set(response.json()) == {"error", "error_description"}
    assert response.headers["cache-control"] == "no-store"
