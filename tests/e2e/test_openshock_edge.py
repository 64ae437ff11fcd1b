"""What the OpenShock surface answers before a route's work: bad bodies, a missing
User-Agent, unknown routes, and the rate limits (429, plain text, Retry-After)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.openshock_accounts import (
    PASSWORD,
    http_client,
    loopback_address,
    new_account,
    problem,
)

pytestmark = pytest.mark.timeout(300)


def test_malformed_json_is_a_validationproblem(stack: Stack) -> None:
    account = new_account(stack.url)
    with account.http() as c:
        tokens = c.get("/1/tokens").json()
        for path in ("/2/tokens", "/2/account/login", "/2/devices"):
            broken = c.post(
                path, content=b'{"name": ', headers={"content-type": "application/json"}
            )
            assert "$" in problem(broken, 400, "Validation.Error")["errors"]
        not_object = c.post("/1/tokens", json=[1, 2])
        problem(not_object, 400, "Validation.Error")
        assert c.get("/1/tokens").json() == tokens  # nothing was made


def test_a_10_mb_body_is_refused_before_it_is_read(stack: Stack) -> None:
    account = new_account(stack.url)
    big = b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    with account.http() as c:
        tokens = c.get("/1/tokens").json()
        declared = c.post("/1/tokens", content=big, headers={"content-type": "application/json"})
        problem(declared, 413, "Request.TooLarge")

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(big), 1024 * 1024):
                yield big[start : start + 1024 * 1024]

        chunked = c.post(
            "/2/account/signup", content=chunks(), headers={"content-type": "application/json"}
        )
        problem(chunked, 413, "Request.TooLarge")
        assert c.get("/1/tokens").json() == tokens
    # Without a credential, the body is not even read: 401 first.
    with http_client(stack.url) as c:
        anonymous = c.post("/1/tokens", content=big, headers={"content-type": "application/json"})
        problem(anonymous, 401, "Authentication.CookieMissingOrInvalid")


def test_an_empty_user_agent_is_forbidden(stack: Stack) -> None:
    refused = httpx.get(f"{stack.url}/1", headers={"User-Agent": ""})
    problem(refused, 403, "Request.UserAgent.Missing")
    login = httpx.post(
        f"{stack.url}/2/account/login",
        json={"usernameOrEmail": "x", "password": PASSWORD},
        headers={"User-Agent": ""},
    )
    problem(login, 403, "Request.UserAgent.Missing")


def test_unknown_routes_and_methods_answer_problems(stack: Stack) -> None:
    with http_client(stack.url) as c:
        problem(c.get("/1/no/such/route"), 404, "Request.NotFound")
        wrong_method = c.put("/1/users/self")
        problem(wrong_method, 405, "Request.MethodNotAllowed")
        assert wrong_method.headers["allow"] == "GET"
        not_a_guid = c.get("/1/tokens/not-a-guid", headers={"OpenShockSession": "x" * 32})
        problem(not_a_guid, 401, "Authentication.SessionInvalid")
        problem(
            c.get("/1/users/self", headers={"OpenShockToken": "x"}),
            401,
            "Authentication.TokenInvalid",
        )


def test_login_is_limited_to_10_a_minute_per_address(stack: Stack) -> None:
    address = loopback_address()
    with http_client(stack.url, address) as c:
        answers = [
            c.post("/2/account/login", json={"usernameOrEmail": "nobody", "password": "nope"})
            for _ in range(11)
        ]
    assert [a.status_code for a in answers[:10]] == [401] * 10
    limited = answers[10]
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/plain")
    assert limited.text == "Too Many Requests. Please try again later."
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # Another address is not held back.
    with http_client(stack.url) as other:
        assert (
            other.post(
                "/2/account/login", json={"usernameOrEmail": "nobody", "password": "nope"}
            ).status_code
            == 401
        )


def test_each_user_gets_120_requests_a_minute(stack: Stack) -> None:
    # Its signup and login were counted by address; making its API token was its first request.
    account = new_account(stack.url)
    with account.http() as c:
        statuses = [c.get("/1/users/self").status_code for _ in range(120)]
        assert statuses[:119] == [200] * 119, statuses
        assert statuses[119] == 429
        limited = c.get("/1/users/self")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    # Counted per user: another user is not held back.
    other = new_account(stack.url)
    with other.http() as c:
        assert c.get("/1/users/self").status_code == 200
