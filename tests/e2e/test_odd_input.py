"""Odd but well-formed input found by fuzzing: each a 400 in its surface's format, never a 500."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import Stack
from tests.e2e.test_identity_authorize import REDIRECT, register
from tests.e2e.test_senz_api import owner_with_thermostat, put

FIVE_THOUSAND_DIGITS = "9" * 5000


@pytest.mark.parametrize(
    "params",
    [
        {"after": str(2**63)},
        {"after": FIVE_THOUSAND_DIGITS},
        {"since": "9999-12-31T23:59:59-01:00"},
        {"until": "0001-01-01T00:00:00+01:00"},
    ],
    ids=["after 2^63", "after 5000 digits", "since past year 9999", "until before year 1"],
)
def test_audit_filters_out_of_range_are_problems(stack: Stack, params: dict[str, str]) -> None:
    response = httpx.get(
        f"{stack.url}/audit/events", params=params, headers=stack.auth("audit:read")
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("hold_until", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_hold_beyond_the_calendar_is_a_senz_400(stack: Stack, hold_until: str) -> None:
    account = owner_with_thermostat(stack)
    response = put(
        stack,
        account["token"],
        "hold",
        {"serialNumber": account["serial"], "holdUntil": hold_until},
    )
    assert response.status_code == 400, response.text
    assert "holdUntil" in response.json()["messages"][0]


def test_a_malformed_return_url_is_a_400_page(stack: Stack) -> None:
    for response in (
        httpx.get(f"{stack.url}/account/login", params={"ReturnUrl": "//["}),
        httpx.post(f"{stack.url}/account/login", data={"ReturnUrl": "http://[::1"}),
    ):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("max_age", ["²", FIVE_THOUSAND_DIGITS, "-1", "1.5"])
def test_a_max_age_that_is_no_number_is_invalid_request(stack: Stack, max_age: str) -> None:
    client = register(stack, public=False)
    response = httpx.get(
        f"{stack.url}/connect/authorize",
        params={
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "state": "s1",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "max_age": max_age,
        },
    )
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert location.geturl().startswith(REDIRECT)
    query = parse_qs(location.query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["s1"]


@pytest.mark.parametrize("after", ["²", FIVE_THOUSAND_DIGITS, str(2**63), "-1"])
def test_an_event_socket_position_that_is_no_position_is_refused(stack: Stack, after: str) -> None:
    token = stack.token("deviceAuth:read")
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.ws_url}/api/v1/ws?token={token}&after={after}").close()
    assert refused.value.response.status_code == 400
    assert "after" in json.loads(refused.value.response.body or b"{}")["detail"]
