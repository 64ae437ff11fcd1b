"""The authorization code flow with PKCE, through the login and consent pages, like a browser."""

from __future__ import annotations

import json
import re
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from tests.e2e.conftest import Stack

PASSWORD = "correct horse battery staple"
REDIRECT = "https://app.example.com/callback"


@pytest.fixture(scope="module")
def idp(stack: Stack) -> Stack:
    """The provider on both deployments (the module-scoped `stack` of tests/e2e/conftest.py)."""
    return stack


def register(stack: Stack, public: bool) -> dict[str, str]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    stack.cli("users", "create", "--email", email, "--name", "Grace Hopper", stdin=PASSWORD + "\n")
    args = [
        "clients",
        "create",
        "--name",
        "Web app",
        "--redirect-uri",
        REDIRECT,
        "--grant-types",
        "authorization_code,refresh_token",
        "--scopes",
        "openid profile email offline_access",
    ]
    created = json.loads(stack.cli(*args, *(["--public"] if public else [])).stdout)
    return {"email": email, **created}


class Browser:
    """Follows the provider's pages like a person: fills the login form, presses Allow."""

    def __init__(self, stack: Stack) -> None:
        self.http = httpx.Client(base_url=stack.url, timeout=30)

    def open(self, url: str) -> httpx.Response:
        return self.http.get(url)

    def login(self, response: httpx.Response, email: str, password: str) -> httpx.Response:
        assert response.status_code == 302 and response.headers["location"].startswith(
            "/account/login"
        )
        page = self.http.get(response.headers["location"])
        fields = hidden_fields(page.text)
        return self.http.post(
            "/account/login", data={**fields, "email": email, "password": password}
        )

    def consent(self, response: httpx.Response, answer: str = "allow") -> httpx.Response:
        if response.status_code == 302 and response.headers["location"].startswith(
            "/connect/authorize"
        ):
            response = self.http.get(response.headers["location"])
        assert response.status_code == 200 and "Allow access?" in response.text, response.text
        return self.http.post(
            "/connect/authorize", data={**hidden_fields(response.text), "consent": answer}
        )


def hidden_fields(html: str) -> dict[str, str]:
    import html as html_lib

    pairs = re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", html)
    return {html_lib.unescape(k): html_lib.unescape(v) for k, v in pairs}


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.mark.parametrize("public", [True, False])
def test_code_flow_with_pkce_and_id_token(idp: Stack, public: bool) -> None:
    account = register(idp, public)
    oauth = OAuth2Client(
        client_id=account["client_id"],
        client_secret=account["client_secret"],
        token_endpoint_auth_method="none" if public else "client_secret_basic",
        redirect_uri=REDIRECT,
        scope="openid profile email offline_access",
        code_challenge_method="S256",
    )
    verifier = uuid.uuid4().hex * 2
    nonce = uuid.uuid4().hex
    url, state = oauth.create_authorization_url(
        f"{idp.url}/connect/authorize", code_verifier=verifier, nonce=nonce
    )
    browser = Browser(idp)
    after_login = browser.login(browser.open(url), account["email"], PASSWORD)
    params = redirect_params(browser.consent(after_login))
    assert params["state"] == state
    token = oauth.fetch_token(
        f"{idp.url}/connect/token", code=params["code"], code_verifier=verifier, state=state
    )
    jwks = KeySet.import_key_set(
        httpx.get(f"{idp.url}/.well-known/openid-configuration/jwks").json()
    )
    decoded = jose_jwt.decode(token["id_token"], jwks)
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={"iss": {"value": idp.url}},
        params={
            "nonce": nonce,
            "client_id": account["client_id"],
            "access_token": token["access_token"],
        },
    )
    claims.validate()  # iss, aud, exp, iat, nonce, at_hash
    assert claims["email"] == account["email"] and claims["name"] == "Grace Hopper"
    assert token["refresh_token"]

    # The code is single-use: a second redemption fails and revokes what the first issued.
    with pytest.raises(OAuthError) as reused:
        oauth.fetch_token(f"{idp.url}/connect/token", code=params["code"], code_verifier=verifier)
    assert reused.value.error == "invalid_grant"
    info = httpx.get(
        f"{idp.url}/connect/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert info.status_code == 401

    # A second authorization in the same browser needs neither login nor consent again.
    url2, _ = oauth.create_authorization_url(
        f"{idp.url}/connect/authorize", code_verifier=verifier, nonce=nonce
    )
    silent = browser.open(url2 + "&prompt=none")
    assert "code" in redirect_params(silent)


def test_wrong_verifier_and_missing_pkce_are_refused(idp: Stack) -> None:
    account = register(idp, public=True)
    oauth = OAuth2Client(
        client_id=account["client_id"],
        token_endpoint_auth_method="none",
        redirect_uri=REDIRECT,
        scope="openid",
        code_challenge_method="S256",
    )
    url, _ = oauth.create_authorization_url(f"{idp.url}/connect/authorize", code_verifier="a" * 64)
    browser = Browser(idp)
    params = redirect_params(
        browser.consent(browser.login(browser.open(url), account["email"], PASSWORD))
    )
    with pytest.raises(OAuthError) as wrong:
        oauth.fetch_token(f"{idp.url}/connect/token", code=params["code"], code_verifier="b" * 64)
    assert wrong.value.error == "invalid_grant"
    # A public client without PKCE is turned back at the authorization endpoint.
    plain = OAuth2Client(client_id=account["client_id"], redirect_uri=REDIRECT, scope="openid")
    url, _ = plain.create_authorization_url(f"{idp.url}/connect/authorize")
    assert redirect_params(browser.open(url))["error"] == "invalid_request"


def test_redirect_uris_must_match_exactly_and_never_redirect_elsewhere(idp: Stack) -> None:
    account = register(idp, public=False)
    browser = Browser(idp)
    for redirect in (REDIRECT + "/", REDIRECT + "?x=1", "https://evil.example.com/callback"):
        response = browser.open(
            f"/connect/authorize?client_id={account['client_id']}&response_type=code"
            f"&scope=openid&redirect_uri={redirect}"
        )
        assert response.status_code == 400 and "location" not in response.headers
    unknown = browser.open(
        f"/connect/authorize?client_id=nobody&response_type=code&redirect_uri={REDIRECT}"
    )
    assert unknown.status_code == 400
    # The login page never sends anyone off-site, whatever ReturnUrl says.
    page = browser.http.get("/account/login", params={"ReturnUrl": "https://evil.example.com/"})
    assert hidden_fields(page.text)["ReturnUrl"] == "/"


def test_prompt_none_without_a_session_and_denied_consent(idp: Stack) -> None:
    account = register(idp, public=False)
    base = (
        f"/connect/authorize?client_id={account['client_id']}&response_type=code"
        f"&scope=openid&redirect_uri={REDIRECT}&state=xyz"
    )
    browser = Browser(idp)
    assert redirect_params(browser.open(base + "&prompt=none"))["error"] == "login_required"
    denied = redirect_params(
        browser.consent(browser.login(browser.open(base), account["email"], PASSWORD), "deny")
    )
    assert denied["error"] == "access_denied" and denied["state"] == "xyz"


def test_login_page_refuses_wrong_passwords_and_forged_forms(idp: Stack) -> None:
    account = register(idp, public=False)
    browser = Browser(idp)
    page = browser.http.get("/account/login")
    fields = hidden_fields(page.text)
    wrong = browser.http.post(
        "/account/login", data={**fields, "email": account["email"], "password": "nope"}
    )
    assert wrong.status_code == 401 and "Wrong e-mail or password" in wrong.text
    forged = httpx.post(
        f"{idp.url}/account/login",
        data={"email": account["email"], "password": PASSWORD, "csrf": "x"},
    )
    assert forged.status_code == 200 and "hubline.session" not in forged.headers.get(
        "set-cookie", ""
    )


def test_a_client_may_ask_for_es256_id_tokens(idp: Stack) -> None:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    idp.cli("users", "create", "--email", email, "--name", "Edsger", stdin=PASSWORD + "\n")
    client = json.loads(
        idp.cli(
            "clients",
            "create",
            "--name",
            "ec app",
            "--redirect-uri",
            REDIRECT,
            "--grant-types",
            "authorization_code",
            "--scopes",
            "openid",
            "--id-token-alg",
            "ES256",
        ).stdout
    )
    oauth = OAuth2Client(
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        redirect_uri=REDIRECT,
        scope="openid",
        code_challenge_method="S256",
    )
    verifier = uuid.uuid4().hex * 2
    url, _ = oauth.create_authorization_url(
        f"{idp.url}/connect/authorize", code_verifier=verifier, nonce="n"
    )
    browser = Browser(idp)
    params = redirect_params(browser.consent(browser.login(browser.open(url), email, PASSWORD)))
    token = oauth.fetch_token(
        f"{idp.url}/connect/token", code=params["code"], code_verifier=verifier
    )
    jwks = KeySet.import_key_set(
        httpx.get(f"{idp.url}/.well-known/openid-configuration/jwks").json()
    )
    decoded = jose_jwt.decode(token["id_token"], jwks, algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"
    CodeIDToken(
        decoded.claims,
        decoded.header,
        options={"iss": {"value": idp.url}},
        params={
            "nonce": "n",
            "client_id": client["client_id"],
            "access_token": token["access_token"],
        },
    ).validate()


def test_prompt_login_and_max_age_ask_for_the_password_again(idp: Stack) -> None:
    account = register(idp, public=False)
    base = (
        f"/connect/authorize?client_id={account['client_id']}&response_type=code"
        f"&scope=openid&redirect_uri={REDIRECT}&state=s"
    )
    browser = Browser(idp)
    assert "code" in redirect_params(
        browser.consent(browser.login(browser.open(base), account["email"], PASSWORD))
    )
    assert "code" in redirect_params(browser.open(base))  # a session: no login page
    for forcing in ("&prompt=login", "&max_age=0"):
        time.sleep(1.1)  # auth_time has one-second resolution
        forced = browser.open(base + forcing)
        assert forced.status_code == 302 and forced.headers["location"].startswith(
            "/account/login"
        ), forcing
        again = browser.login(forced, account["email"], PASSWORD)
        assert "code" in redirect_params(browser.open(again.headers["location"]))
