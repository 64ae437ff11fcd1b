"""Bearer-token authentication and permission checks for the REST surfaces."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.problem import Problem
from domain.principals.permissions import Principal
from infra.identity.credentials import bearer_token
from infra.identity.token_authenticator import TokenAuthenticator

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="hubline"'}

Dependency = Callable[[Request], Coroutine[Any, Any, Principal]]


class RequestAuthenticator:
    """Who sends a request (an API token or an access token), as a FastAPI dependency."""

    def __init__(self, authenticator: TokenAuthenticator) -> None:
        self._authenticator = authenticator
        # One dependency per permission: FastAPI runs a dependency used twice in a route
        # once per request (a route's body is read by JsonBody, which calls it itself).
        self._required: dict[str, Dependency] = {}

    async def authenticate(self, request: Request) -> Principal:
        # OpenShock's clients send API tokens in their own header.
        token = bearer_token(request.headers.get("authorization")) or request.headers.get(
            "open-shock-token"
        )
        if token is None:
            raise Problem(401, "missing bearer token", headers=_CHALLENGE)
        # A known API token is answered here; anything else may read the store, off the loop.
        principal = self._authenticator.known_principal(token) or await run_in_threadpool(
            self._authenticator.principal_for, token
        )
        if principal is None:
            raise Problem(401, "the bearer token is not valid", headers=_CHALLENGE)
        return principal

    def require(self, permission: str) -> Dependency:
        if permission not in self._required:
            self._required[permission] = self._requirement(permission)
        return self._required[permission]

    def _requirement(self, permission: str) -> Dependency:
        async def dependency(request: Request) -> Principal:
            principal = await self.authenticate(request)
            if not principal.may(permission):
                raise Problem(403, f"this credential lacks the permission {permission}")
            return principal

        return dependency
