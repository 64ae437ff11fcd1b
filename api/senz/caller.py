"""Who calls the SENZ API: a user through a client, with the restapi scope, within the limits."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api import rate_limiting
from api.problem import Problem
from infra.identity.access_token_validator import AccessTokenValidator
from infra.identity.access_tokens import InvalidAccessToken, acts_for_user
from infra.identity.credentials import bearer_token
from infra.limits.rate_limits import RateLimiter


@dataclass(frozen=True)
class Caller:
    user: str
    client_id: str
    rate_headers: dict[str, str]


class RateLimited(Exception):
    def __init__(self, response: object) -> None:
        self.response = response


class SenzCallers:
    """Resolves a SENZ request's caller: a valid restapi access token, within the rate limits."""

    def __init__(self, validator: AccessTokenValidator, limiter: RateLimiter) -> None:
        self._validator = validator
        self._limiter = limiter

    async def caller(self, request: Request) -> Caller:
        token = bearer_token(request.headers.get("authorization"))
        challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if token is None:
            raise Problem(401, "A bearer access token is required.", headers=challenge)
        try:
            # A token seen before, whose grant is known not revoked, is answered here; a
            # signature check or a store read goes to a worker thread, off the event loop.
            claims = self._validator.known_claims(token)
            if claims is None:
                claims = await run_in_threadpool(self._validator.validate, token)
        except InvalidAccessToken as exc:
            raise Problem(401, f"The access token is not valid: {exc}", headers=challenge) from exc
        if not acts_for_user(claims):
            # RFC 6750 §3.1: invalid_token (401) for a token unusable here; no scope would
            # make a client's own token act for a user, so insufficient_scope would mislead.
            raise Problem(
                401,
                "The access token acts for no user (a client's own token); "
                "the RestAPI needs a token a user granted.",
                headers=challenge,
            )
        if "restapi" not in str(claims.get("scope", "")).split():
            raise Problem(403, "The access token lacks the restapi scope.")
        user, client_id = str(claims["sub"]), str(claims.get("client_id", ""))
        decision = await rate_limiting.check(self._limiter, user, client_id)
        if not decision.allowed:
            raise RateLimited(rate_limiting.too_many(decision))
        return Caller(user, client_id, rate_limiting.allowed_headers(decision))
