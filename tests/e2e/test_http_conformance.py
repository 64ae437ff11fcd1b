"""HTTP as clients expect it (issue 9, defect 10): Allow on every 405, bounded error messages,
an OpenAPI document that says what each route answers, and /docs and /redoc with no internet."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.user_tokens import user_access_token

# Under the transport's 8 KiB request-target limit (a longer one is a 414 before routing).
LONG = "x" * 6_000


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("conformance")) as stack:
        yield stack


@pytest.fixture(scope="module")
def person(hub: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {user_access_token(hub)}"}


@pytest.fixture(scope="module")
def openapi(hub: Stack) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{hub.url}/openapi.json").json()
    return document


@pytest.mark.parametrize(
    ("method", "path", "allow", "media_type"),
    [
        ("PUT", "/connect/token", "POST", "application/json"),
        ("DELETE", "/account/login", "GET, POST", "application/json"),
        ("PATCH", "/connect/endsession", "GET, POST", "application/json"),
        ("DELETE", "/.well-known/openid-configuration", "GET", "application/json"),
        ("PUT", "/device", "GET, POST", "application/json"),
        ("POST", "/api/v1/Account", "GET", "application/json"),
        ("POST", "/api/v1/Thermostat/AB12/Schedule", "GET, PUT", "application/json"),
        ("PATCH", "/api/v1/deviceauth", "GET, POST, DELETE", "application/problem+json"),
        ("PUT", "/api/v1/deviceauth/AB12", "GET, POST, DELETE", "application/problem+json"),
        ("PUT", "/openapi.json", "GET, HEAD", "application/problem+json"),
    ],
)
def test_a_405_names_every_method_routed_for_the_path(
    hub: Stack, method: str, path: str, allow: str, media_type: str
) -> None:
    refused = httpx.request(method, f"{hub.url}{path}")
    assert refused.status_code == 405
    assert refused.headers["allow"] == allow
    assert refused.headers["content-type"] == media_type
    for allowed in allow.split(", "):
        assert httpx.request(allowed, f"{hub.url}{path}").status_code != 405, allowed


def test_a_404_does_not_echo_a_long_path(hub: Stack, person: dict[str, str]) -> None:
    token = httpx.delete(f"{hub.url}/api/v1/tokens/{LONG}", headers=person)
    assert token.status_code == 404
    assert token.json()["detail"].startswith("no token xxx")
    assert len(token.json()["detail"]) <= 201
    thermostat = httpx.get(f"{hub.url}/api/v1/Thermostat/{LONG}", headers=person)
    assert thermostat.status_code == 404
    assert [len(m) <= 201 for m in thermostat.json()["messages"]] == [True]
    mode = httpx.put(f"{hub.url}/api/v1/Mode/{LONG}", headers=person, json={})
    assert mode.status_code == 404
    assert len(mode.content) < 1000


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_documentation_pages_load_everything_from_this_server(hub: Stack, page: str) -> None:
    html = httpx.get(f"{hub.url}{page}")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert assets
    assert all(url.startswith("/") and not url.startswith("//") for url in assets), assets
    assert "fonts.googleapis" not in html.text
    for url in assets:
        asset = httpx.get(f"{hub.url}{url}")
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url
    assert httpx.get(f"{hub.url}/docs/assets/..%2Fcore.py").status_code == 404


def test_form_endpoints_declare_their_forms(openapi: dict[str, Any]) -> None:
    forms = {
        ("/connect/token", "post"): "grant_type",
        ("/connect/revocation", "post"): "token",
        ("/connect/introspect", "post"): "token",
        ("/connect/deviceauthorization", "post"): "client_id",
        ("/connect/authorize", "post"): "consent",
        ("/connect/endsession", "post"): "post_logout_redirect_uri",
        ("/account/login", "post"): "password",
        ("/device", "post"): "user_code",
    }
    for (path, method), field in forms.items():
        content = openapi["paths"][path][method]["requestBody"]["content"]
        assert list(content) == ["application/x-www-form-urlencoded"], path
        schema = content["application/x-www-form-urlencoded"]["schema"]
        assert field in schema["properties"], path
        assert {"413", "415"} <= set(openapi["paths"][path][method]["responses"]), path


def test_pages_are_documented_as_html(openapi: dict[str, Any]) -> None:
    for path in ("/connect/endsession", "/device", "/account/login", "/connect/authorize"):
        for method, operation in openapi["paths"][path].items():
            assert list(operation["responses"]["200"]["content"]) == ["text/html"], (path, method)


def test_errors_are_documented_in_each_surface_format(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            # Invalid input is a 400 on every surface; FastAPI's 422 is never answered.
            assert "422" not in operation["responses"], (path, method)
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    problems = paths["/api/v1/deviceauth/{deviceIdentifier}"]["get"]["responses"]
    assert {"400", "401", "403", "404"} <= set(problems)
    assert list(problems["404"]["content"]) == ["application/problem+json"]
    tokens = paths["/api/v1/tokens"]["post"]["responses"]
    assert {"400", "401", "403", "413"} <= set(tokens)
    oauth = paths["/connect/token"]["post"]["responses"]
    assert oauth["401"]["content"]["application/json"]["schema"]["required"] == ["error"]
    senz = paths["/api/v1/Mode/{mode}"]["put"]["responses"]
    assert {"400", "401", "403", "404", "413", "415"} <= set(senz)


@pytest.mark.parametrize("name", ["response_type", "redirect_uri", "client_id", "state"])
def test_an_authorize_parameter_that_is_not_ascii_is_a_400_page(hub: Stack, name: str) -> None:
    # authlib refused (ValueError, a 500) to build an error that echoed such a value.
    params = {"response_type": "code", "client_id": "app", "redirect_uri": "https://a.example/"}
    refused = httpx.get(f"{hub.url}/connect/authorize", params={**params, name: "cödé\x85"})
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("text/html")
    assert name in refused.text
