"""Who calls the SENZ API: a user through a client, with the restapi scope, within the limits."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api import rate_limiting
from api.auth import bearer_token, hub_of
from api.problem import Problem
from infra.identity.access_tokens import InvalidAccessToken


@dataclass(frozen=True)
class Caller:
    user: str
    client_id: str
    rate_headers: dict[str, str]


class RateLimited(Exception):
    def __init__(self, response: object) -> None:
        self.response = response


async def senz_caller(request: Request) -> Caller:
    hub = hub_of(request)
    token = bearer_token(request.headers.get("authorization"))
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    if token is None:
        raise Problem(401, "A bearer access token is required.", headers=challenge)
    try:
        claims = await run_in_threadpool(hub.identity.validate_access_token, token)
    except InvalidAccessToken as exc:
        raise Problem(401, f"The access token is not valid: {exc}", headers=challenge) from exc
    if "restapi" not in str(claims.get("scope", "")).split():
        raise Problem(403, "The access token lacks the restapi scope.")
    user, client_id = str(claims["sub"]), str(claims.get("client_id", ""))
    decision = await rate_limiting.check(hub.rate_limiter, user, client_id)
    if not decision.allowed:
        raise RateLimited(rate_limiting.too_many(decision))
    return Caller(user, client_id, rate_limiting.allowed_headers(decision))
