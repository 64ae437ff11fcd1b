"""GET /1 (what this backend is) and GET /1/public/stats, anonymous."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, Request, Response

from api.openshock.auth import OpenShockAuth
from api.openshock.errors import OpenShockProblem
from api.openshock.responses import legacy, utc
from infra.store.view_reader import ViewReader
from projections.openshock_hub_link_view import online_count


def _version() -> str:
    try:
        return version("hubline")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without install
        return "0.0.0"


def meta_router(auth: OpenShockAuth, views: ViewReader, public_url: str) -> APIRouter:
    router = APIRouter(tags=["OpenShock: meta"])
    backend_version = _version()
    frontend = public_url.rstrip("/") + "/"

    @router.get("/1", summary="What this backend is (OpenShock's backend info)")
    async def backend_info(request: Request) -> Response:
        try:
            authenticated = await auth.optional_caller(request) is not None
        except OpenShockProblem:
            # The real backend answers this route whoever asks: a bad credential is no user.
            authenticated = False
        return legacy(
            {
                "version": backend_version,
                "commit": "",
                "currentTime": utc(datetime.now(UTC)),
                "frontendUrl": frontend,
                "shortLinkUrl": frontend,
                # No captcha service: Turnstile is off, as the issue says.
                "turnstileSiteKey": None,
                "oAuthProviders": [],
                # No mail service: signups are activated at once.
                "isMailEnabled": False,
                "isUserAuthenticated": authenticated,
            },
            "OpenShock",
        )

    @router.get("/1/public/stats", summary="How many hubs are online")
    async def stats() -> Response:
        # As fresh as the view is: the real API's count is as old as its cache.
        return legacy({"devicesOnline": await views.query(online_count)})

    return router
