"""The OpenShock API's request limits, as the real backend's rate limiter applies them.

- Each authenticated user: 120 requests a minute, sliding (six 10-second segments).
- Each address without a user's credential: 1,000 a minute, sliding; loopback is exempt.
- Login, signup, password reset and pairing: 10 a minute per address, fixed window,
  loopback included.
Past a limit: 429, plain text, Retry-After in seconds. The counters are the deployment's
(Redis when distributed). A request with an empty User-Agent is refused with 403, as
OpenShock's developer documentation says (the real backend leaves that to its CDN).
"""

from __future__ import annotations

import ipaddress
import math
import re
from datetime import UTC, datetime

from fastapi import Request

from api.openshock.errors import OpenShockProblem, TooManyRequests
from infra.limits.rate_limits import RateLimiter
from infra.limits.sliding_window import SlidingWindowLimiter
from infra.openshock.presented_credentials import presents_credential

# (method, path) patterns of the "auth" policy: login, signup, password reset, pairing.
_AUTH_ROUTES = (
    ("POST", re.compile(r"^/[12]/account/(login|signup|password-reset)(/.*)?$")),
    ("GET", re.compile(r"^/[12]/account/password-reset/.*$")),
    ("GET", re.compile(r"^/[12]/(device/)?pair/[^/]+$")),
)


class RequestLimits:
    def __init__(
        self,
        user: SlidingWindowLimiter | None,
        anonymous: SlidingWindowLimiter | None,
        auth: RateLimiter | None,
    ) -> None:
        # None: that limit is off (settings).
        self._user = user
        self._anonymous = anonymous
        self._auth = auth

    async def edge(self, request: Request) -> None:
        """Every OpenShock route's first dependency: the User-Agent, then the address's
        limits. A request with a user's credential is counted once authenticated."""
        if not request.headers.get("user-agent", "").strip():
            raise OpenShockProblem(
                "Request.UserAgent.Missing",
                "A User-Agent header is required",
                403,
                "Requests without a User-Agent are refused; name your client in it.",
            )
        if self._auth is not None and _is_auth_route(request):
            decision = await self._auth.hit(f"openshock-auth:{_address(request)}", _now())
            if not decision.allowed:
                raise TooManyRequests(decision.retry_after_seconds(_now()))
        if not presents_credential(request):
            await self._count_address(request)

    async def user(self, user_id: str) -> None:
        if self._user is None:
            return
        wait = await self._user.acquire(f"openshock-user:{user_id}")
        if wait > 0:
            raise TooManyRequests(math.ceil(wait))

    async def refused_credential(self, request: Request) -> None:
        """A credential was presented and refused: counted against its address, so that
        trying tokens is no way around the anonymous limit."""
        await self._count_address(request)

    async def _count_address(self, request: Request) -> None:
        if self._anonymous is None:
            return
        address = _address(request)
        if _is_loopback(address):
            return
        wait = await self._anonymous.acquire(f"openshock-address:{address}")
        if wait > 0:
            raise TooManyRequests(math.ceil(wait))


def _now() -> datetime:
    return datetime.now(UTC)


def _address(request: Request) -> str:
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _is_auth_route(request: Request) -> bool:
    method, path = request.method, request.url.path
    return any(method == m and pattern.match(path) for m, pattern in _AUTH_ROUTES)
