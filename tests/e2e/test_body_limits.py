"""Request bodies are bounded while they are read: a large body from anyone is a 413, not RAM."""

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


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/v1/users"),
        ("POST", "/api/v1/tokens"),
        ("POST", "/api/v1/admin/thermostats"),
        ("POST", "/api/v1/deviceauth/DEV-1"),
        ("PATCH", "/api/v1/users/0a4f7f0e-3c6c-4f0e-9d7e-0d6b1b3f9a10"),
    ],
)
def test_an_anonymous_large_body_is_refused_as_it_arrives(
    stack: Stack, method: str, path: str, chunked: bool
) -> None:
    body = chunks(8 * MIB) if chunked else b"x" * (8 * MIB)
    response = httpx.request(
        method,
        f"{stack.url}{path}",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413, response.text
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
