"""The ASGI application: routers and gateways of every surface on one Hub."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.audit.routes import router as audit_router
from api.deviceauth.routes import router as deviceauth_router
from api.identity.authorize_routes import router as authorize_router
from api.identity.errors import to_oauth_error
from api.identity.routes import router as identity_router
from api.problem import Problem, to_problem
from api.senz.caller import RateLimited
from api.senz.errors import to_senz_error
from api.senz.routes import router as senz_router
from api.system.routes import router as system_router
from api.tokens.routes import router as tokens_router
from api.users.routes import router as users_router
from api.users.routes import thermostats_router as admin_thermostats_router
from domain.errors import DomainError, ViewsBehind
from gateways.devices.endpoint import router as device_gateway
from gateways.events.endpoint import router as event_gateway
from gateways.senz.change_notifications import ChangeNotifications
from gateways.signalr.hub_server import HubServer
from infra.root.services import Hub
from infra.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings, hub: Hub | None = None) -> FastAPI:
    running = hub or Hub(settings)
    notifications = ChangeNotifications(running)
    signalr = HubServer(notifications.authenticate)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.hub = running
        await running.start()
        try:
            yield
        finally:
            await running.stop()

    app = FastAPI(
        title="Hubline",
        version="0.1.0",
        summary="One event-sourced backend for devices, integrators and realtime apps",
        lifespan=lifespan,
    )
    for router in (
        system_router,
        identity_router,
        authorize_router,
        deviceauth_router,
        tokens_router,
        users_router,
        admin_thermostats_router,
        senz_router,
        audit_router,
        event_gateway,
        device_gateway,
    ):
        app.include_router(router)
    # SENZ's sample connects to /v1/changenotifications; its API lives under /api/v1.
    app.include_router(
        signalr.router_for(
            notifications.hub(), "/v1/changenotifications", "/api/v1/changenotifications"
        )
    )
    _install_error_mapping(app)
    # `hubline serve` says goodbye to SignalR clients before uvicorn drops their sockets.
    app.state.before_shutdown = signalr.close_all
    return app


_EXPECTED = (
    Problem,
    RequestValidationError,
    StarletteHTTPException,
    DomainError,
    ViewsBehind,
    RateLimited,
)
_SENZ_PATHS = ("/api/v1/Account", "/api/v1/Thermostat", "/api/v1/Mode")


def _install_error_mapping(app: FastAPI) -> None:
    """Each surface answers errors in its own format; the path says which surface it is."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, _EXPECTED):
            log.exception(
                "unhandled error on %s %s", request.method, request.url.path, exc_info=exc
            )
        path = request.url.path
        if isinstance(exc, RateLimited):
            return exc.response  # type: ignore[return-value]
        if path.startswith(_SENZ_PATHS):
            return to_senz_error(request, exc)
        if path.startswith(("/connect/", "/.well-known/", "/account/")):
            return to_oauth_error(request, exc)
        return to_problem(request, exc)

    for kind in (*_EXPECTED, Exception):
        app.add_exception_handler(kind, handle)
