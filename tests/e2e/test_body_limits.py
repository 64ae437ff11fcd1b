"""Request bodies: read only after the credential check, and bounded while they are read."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_senz_api import owner_with_thermostat

MIB = 1024 * 1024


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent with Transfer-Encoding: chunked, so no Content-Length warns the server."""
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


WRITES = [
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/tokens"),
    ("POST", "/api/v1/admin/thermostats"),
    ("POST", "/api/v1/deviceauth/DEV-1"),
    ("PATCH", "/api/v1/users/0a4f7f0e-3c6c-4f0e-9d7e-0d6b1b3f9a10"),
]
WRITERS = "users:create,users:update,tokens:create,thermostats:create,deviceAuth:update"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("method, path", WRITES)
def test_a_large_body_is_refused_as_it_arrives(
    stack: Stack, method: str, path: str, chunked: bool
) -> None:
    """Anonymous: refused before the body is read; with a credential: 413 within 64 KiB."""
    for headers, status in (({}, 401), (stack.auth(WRITERS), 413)):
        body = chunks(8 * MIB) if chunked else b"x" * (8 * MIB)
        response = httpx.request(
            method,
            f"{stack.url}{path}",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_a_senz_put_over_64_kib_is_a_senz_413(stack: Stack) -> None:
    account = owner_with_thermostat(stack)
    response = httpx.put(
        f"{stack.url}/api/v1/Mode/manual",
        content=chunks(MIB),
        headers={
            "Authorization": f"Bearer {account['token']}",
            "Content-Type": "application/json",
        },
        timeout=30,
    )
    assert response.status_code == 413, response.text
    assert "larger than" in response.json()["messages"][0]


def test_a_body_within_the_limit_still_works(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.url}/api/v1/deviceauth/DEV-LIMIT",
        json={"publicKey": "k" * 1000},
        headers=stack.auth(),
        timeout=30,
    )
    assert response.status_code == 204, response.text


@pytest.mark.parametrize("method, path", WRITES)
def test_the_credential_is_checked_before_the_body_is_parsed(
    stack: Stack, method: str, path: str
) -> None:
    """A malformed body from nobody is refused for who sent it (401), not parsed (400)."""
    for headers, status in (({}, 401), ({"Authorization": "Bearer hbl_forged"}, 401)):
        response = httpx.request(
            method,
            f"{stack.url}{path}",
            content=b"{not json",
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status_code == status, response.text
    lacking = httpx.request(
        method,
        f"{stack.url}{path}",
        content=b"{not json",
        headers={**stack.auth("audit:read"), "Content-Type": "application/json"},
    )
    assert lacking.status_code == 403, lacking.text
