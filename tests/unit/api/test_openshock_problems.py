"""OpenShock's problem details and request limits, as the real backend shapes them."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
import pytest
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from api.openshock.errors import OpenShockProblem, TooManyRequests, to_openshock_problem
from api.openshock.limits import RequestLimits
from domain.identity.username import UsernameOrEmailExists, username_problem
from domain.openshock.errors import ControlNotFound, invalid
from domain.openshock.values import Caller, Permission, TokenGrant
from infra.limits.sliding_window import MemorySlidingWindow


def _request(
    path: str = "/1/x", address: str = "203.0.113.9", headers: dict[str, str] | None = None
) -> Request:
    raw = [
        (k.lower().encode(), v.encode())
        for k, v in (headers if headers is not None else {"User-Agent": "t"}).items()
    ]
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": path,
            "query_string": b"",
            "headers": raw,
            "client": (address, 1234),
        }
    )


def _body(exc: Exception) -> tuple[int, dict[str, Any]]:
    response = to_openshock_problem(_request(), exc)
    assert response.media_type == "application/problem+json"
    return response.status_code, orjson.loads(response.body)


def test_a_permission_refusal_names_what_is_missing_and_what_is_granted() -> None:
    caller = Caller(
        user_id=uuid.uuid4(),
        token=TokenGrant("t", frozenset({"shockers.use"})),
    )
    with pytest.raises(Exception) as refused:
        caller.require(Permission.DEVICES_EDIT)
    status, body = _body(refused.value)
    assert status == 403
    assert body["type"] == "Authorization.Token.PermissionMissing"
    assert body["requiredPermission"] == "devices.edit"
    assert body["grantedPermissions"] == ["shockers.use"]
    assert body["message"] == body["detail"] and body["traceId"] == body["requestId"]


def test_domain_refusals_keep_their_type_status_and_extensions() -> None:
    status, body = _body(ControlNotFound(shockerId="abc"))
    assert (status, body["type"], body["shockerId"]) == (404, "Shocker.Control.NotFound", "abc")
    assert body["detail"] is None and body["message"] == body["title"]
    status, body = _body(invalid("shocks[0].intensity", "must be 0..100"))
    assert status == 400 and body["errors"] == {"shocks[0].intensity": ["must be 0..100"]}
    status, body = _body(UsernameOrEmailExists("a user with e-mail x@example.com exists"))
    assert status == 409 and body["detail"] is None  # never says which one exists
    problem = username_problem("ab")
    assert problem is not None
    status, body = _body(problem)
    assert status == 400 and body["usernameError"]["type"] == "TooShort"


def test_framework_errors_in_the_surface_format() -> None:
    status, body = _body(
        RequestValidationError([{"type": "json_invalid", "loc": ("body", 3), "msg": "bad"}])
    )
    assert status == 400 and body["errors"] == {"$": ["bad"]}
    status, body = _body(
        RequestValidationError(
            [{"type": "missing", "loc": ("body", "shocks", 0, "id"), "msg": "m"}]
        )
    )
    assert body["errors"] == {"shocks[0].id": ["m"]}
    status, body = _body(HTTPException(404, "Not Found"))
    assert (status, body["type"], body["detail"]) == (404, "Request.NotFound", None)
    status, body = _body(RuntimeError("boom"))
    assert status == 500 and "boom" not in orjson.dumps(body).decode()


def test_too_many_requests_is_plain_text_with_retry_after() -> None:
    response = to_openshock_problem(_request(), TooManyRequests(7))
    assert response.status_code == 429
    assert response.body == b"Too Many Requests. Please try again later."
    assert response.headers["retry-after"] == "7"


def test_the_anonymous_limit_counts_addresses_but_not_loopback() -> None:
    limits = RequestLimits(None, MemorySlidingWindow(2, 60, 6), None)

    async def hits(address: str) -> list[str]:
        outcomes = []
        for _ in range(3):
            try:
                await limits.edge(_request(address=address))
                outcomes.append("ok")
            except TooManyRequests:
                outcomes.append("429")
        return outcomes

    assert asyncio.run(hits("203.0.113.9")) == ["ok", "ok", "429"]
    assert asyncio.run(hits("127.0.0.1")) == ["ok", "ok", "ok"]
    assert asyncio.run(hits("::1")) == ["ok", "ok", "ok"]


def test_requests_with_a_credential_are_left_to_the_per_user_limit() -> None:
    limits = RequestLimits(None, MemorySlidingWindow(1, 60, 6), None)
    request = _request(headers={"User-Agent": "t", "OpenShockToken": "x"})

    async def twice() -> None:
        await limits.edge(request)
        await limits.edge(request)

    asyncio.run(twice())


def test_an_empty_user_agent_is_refused() -> None:
    limits = RequestLimits(None, None, None)
    with pytest.raises(OpenShockProblem) as refused:
        asyncio.run(limits.edge(_request(headers={})))
    assert refused.value.status == 403
