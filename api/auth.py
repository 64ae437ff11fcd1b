"""Bearer-token authentication and permission checks for the REST surfaces."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.problem import Problem
from domain.principals.permissions import Principal
from infra.root.services import Hub

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="hubline"'}


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(request: Request) -> Principal:
    # OpenShock's clients send API tokens in their own header.
    token = bearer_token(request.headers.get("authorization")) or request.headers.get(
        "open-shock-token"
    )
    if token is None:
        raise Problem(401, "missing bearer token", headers=_CHALLENGE)
    principal = await run_in_threadpool(hub_of(request).authenticator.principal_for, token)
    if principal is None:
        raise Problem(401, "the bearer token is not valid", headers=_CHALLENGE)
    return principal


def require(permission: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        if not principal.may(permission):
            raise Problem(403, f"this credential lacks the permission {permission}")
        request.state.principal = principal
        return principal

    return dependency
