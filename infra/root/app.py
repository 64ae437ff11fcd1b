"""The ASGI application: each surface's routers and gateways, handed what they use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api.audit.routes import audit_router
from api.auth import RequestAuthenticator
from api.body_limit import RequestBodyLimit
from api.deviceauth.routes import deviceauth_router
from api.identity.authorization_server import HublineAuthorizationServer
from api.identity.authorize_routes import sign_in_router
from api.identity.routes import identity_router
from api.identity.session import Sessions
from api.identity.token_management import TokenManagement
from api.senz.admin_routes import thermostat_admin_router
from api.senz.caller import SenzCallers
from api.senz.routes import senz_router
from api.system.routes import system_router
from api.tokens.routes import tokens_router
from api.users.routes import users_router
from gateways.devices.endpoint import DeviceGatewaySettings, device_gateway
from gateways.devices.thermostat_session import ThermostatSessions
from gateways.events.endpoint import event_gateway
from gateways.events.fanout import NotificationFanout
from gateways.live_sessions import LiveSessions
from gateways.senz.change_notifications import ChangeNotifications
from gateways.signalr.hub_server import HubServer
from gateways.websocket_auth import WebSocketAuthenticator
from infra.root.api_docs import install_api_docs
from infra.root.errors import install_error_mapping
from infra.root.services import Services
from infra.settings import Settings


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    running = services or Services(settings)
    # Websocket sessions end when their credential is revoked or expires.
    sessions = LiveSessions(
        running.feed, running.authenticator.is_active, running.settings.session_recheck_seconds
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await running.start()
        try:
            yield
        finally:
            await sessions.stop()
            await running.stop()

    app = FastAPI(
        title="Hubline",
        version="0.1.0",
        summary="One event-sourced backend for devices, integrators and realtime apps",
        lifespan=lifespan,
        # Served by install_api_docs from a Python package: FastAPI's pages load a CDN.
        docs_url=None,
        redoc_url=None,
        # FastAPI's native OpenTelemetry (nothing here configures OpenTelemetry, and its
        # auto-configuration would read the environment outside infra/settings.py): off, so
        # that no request asks for OpenTelemetry's providers. Our metrics are Prometheus'.
        telemetry={"tracing": False, "metrics": False, "logs": False, "auto_configure": False},
    )
    install_api_docs(app)
    for router in (*_rest_routers(running), *_gateways(running, sessions)):
        app.include_router(router)
    notifications = ChangeNotifications(running.feed, running.token_validator)
    signalr = HubServer(notifications.authenticate, sessions)
    # SENZ's sample connects to /v1/changenotifications; its API lives under /api/v1.
    app.include_router(
        signalr.router_for(
            notifications.hub(), "/v1/changenotifications", "/api/v1/changenotifications"
        )
    )
    install_error_mapping(app)
    app.add_middleware(
        RequestBodyLimit,
        default=running.settings.max_body_bytes,
        per_route={("POST", "/api/v1/deviceauth"): running.settings.max_upload_bytes},
    )
    # `hubline serve` says goodbye to SignalR clients before uvicorn drops their sockets.
    app.state.before_shutdown = signalr.close_all
    return app


def _rest_routers(services: Services) -> list[APIRouter]:
    settings, bus, views = services.settings, services.bus, services.view_reader
    auth = RequestAuthenticator(services.authenticator)
    oauth = HublineAuthorizationServer(
        services.natural_keys,
        services.access_tokens,
        bus,
        settings.refresh_token_lifetime_seconds,
        services.login_failures,
    )
    sessions = Sessions(
        services.secret_box.derive_key("session-cookie"),
        secure=settings.issuer_url.startswith("https://"),
    )
    token_management = TokenManagement(
        oauth, services.access_tokens, services.token_validator, services.natural_keys, bus
    )
    return [
        system_router(services.health),
        identity_router(
            oauth,
            services.access_tokens.issuer,
            services.signing_keys,
            services.token_validator,
            services.natural_keys,
            services.rate_limiter,
            token_management,
        ),
        sign_in_router(oauth, sessions, services.access_tokens, services.natural_keys, bus),
        deviceauth_router(bus, views, auth, settings.max_upload_bytes),
        tokens_router(bus, views, auth),
        users_router(bus, views, auth),
        thermostat_admin_router(bus, services.natural_keys, auth),
        senz_router(
            bus,
            views,
            services.natural_keys,
            SenzCallers(services.token_validator, services.rate_limiter),
        ),
        audit_router(views, auth),
    ]


def _gateways(services: Services, sessions: LiveSessions) -> list[APIRouter]:
    settings = services.settings
    return [
        event_gateway(
            NotificationFanout(services.feed),
            services.store,
            WebSocketAuthenticator(services.authenticator),
            sessions,
        ),
        device_gateway(
            DeviceGatewaySettings(
                enforced=settings.device_auth_enforced,
                challenge_ttl_seconds=settings.challenge_ttl_seconds,
            ),
            services.bus,
            services.aggregates,
            services.device_failures,
            ThermostatSessions(services.bus, services.natural_keys, services.feed),
        ),
    ]
