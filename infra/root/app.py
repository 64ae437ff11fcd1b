"""The ASGI application: each surface's routers and gateways, handed what they use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from api.audit.routes import audit_router
from api.auth import RequestAuthenticator
from api.body_limit import RequestBodyLimit
from api.deviceauth.routes import deviceauth_router
from api.identity.authorization_server import HublineAuthorizationServer
from api.identity.authorize_routes import sign_in_router
from api.identity.routes import identity_router
from api.identity.session import Sessions
from api.identity.token_management import TokenManagement
from api.openshock import OPENSHOCK_PATHS, OPENSHOCK_ROOT
from api.openshock.account_routes import account_router
from api.openshock.auth import OpenShockAuth
from api.openshock.control import control_router
from api.openshock.gateway_address import GatewayAddress, parse_gateway_url
from api.openshock.hub_side import hub_side_router
from api.openshock.hubs import hubs_router
from api.openshock.limits import RequestLimits
from api.openshock.logs import logs_router
from api.openshock.meta_routes import meta_router
from api.openshock.session_routes import sessions_router
from api.openshock.share_links import share_links_router
from api.openshock.shocker_shares import shocker_shares_router
from api.openshock.shockers import shockers_router
from api.openshock.token_routes import openshock_tokens_router
from api.openshock.user_shares import user_shares_router
from api.pusher.admin_routes import pusher_admin_router
from api.pusher.channel_queries import ChannelQueries
from api.pusher.routes import PUSHER_PATHS, pusher_router
from api.senz.admin_routes import thermostat_admin_router
from api.senz.caller import SenzCallers
from api.senz.routes import senz_router
from api.surface_router import SurfaceRouter
from api.system.routes import system_router
from api.tokens.routes import tokens_router
from api.users.routes import users_router
from domain.pusher.presence import PusherNode, pusher_node_id
from gateways.devices.endpoint import DeviceGatewaySettings, device_gateway
from gateways.devices.thermostat_session import ThermostatSessions
from gateways.events.endpoint import event_gateway
from gateways.events.fanout import NotificationFanout
from gateways.live_sessions import LiveSessions
from gateways.openshock.hub_connections import HubConnections
from gateways.openshock.hub_socket import HubGateway, HubGatewaySettings, HubSockets
from gateways.openshock.live_control import live_control_gateway
from gateways.openshock.live_ticks import LiveHubs
from gateways.openshock.signalr_hubs import openshock_signalr_routers
from gateways.openshock.socket_auth import OpenShockSocketAuth
from gateways.openshock.stale_hub_sessions import StaleHubSessions
from gateways.pusher.cache import ChannelCache
from gateways.pusher.channels import ChannelRegistry
from gateways.pusher.endpoint import PusherGateway, PusherGatewaySettings, PusherSockets
from gateways.pusher.fanout import PusherFanout
from gateways.pusher.presence_cluster import LeaseTiming, PresenceCluster
from gateways.senz.change_notifications import ChangeNotifications
from gateways.signalr.hub_server import HubServer
from gateways.websocket_auth import WebSocketAuthenticator
from infra.pusher.cache_channel_view import CacheChannelView
from infra.pusher.credentials import seal_secret
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
    # This node's Pusher channels: the gateway keeps them; with the other nodes' (the
    # presence cluster), the HTTP API answers about them.
    pusher_channels = ChannelRegistry(_pusher_cache(running))
    presence = _presence_cluster(running, pusher_channels)
    # OpenShock hubs held by this node, and whoever records the hubs of gone nodes offline.
    hub_connections = HubConnections(running.feed, running.hub_tokens.hub_for_hash)
    stale_hubs = _stale_hub_sessions(running, hub_connections, presence)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await running.start()
        await presence.start()
        await stale_hubs.start()
        try:
            yield
        finally:
            await stale_hubs.stop()
            await presence.stop()
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
    # Each surface behind one check of its paths (SurfaceRouter): the others' requests
    # pass it with a startswith instead of a match against each of its routes, so these
    # come first and cost the rest nothing.
    pusher_prefix = running.settings.pusher_path_prefix
    app.include_router(
        SurfaceRouter(
            (*PUSHER_PATHS, *(pusher_prefix + p for p in PUSHER_PATHS if pusher_prefix)),
            _pusher_routers(running, presence),
        )
    )
    # OpenShock's routes first check the User-Agent and the address's limits (limits.py).
    limits = _openshock_limits(running)
    app.include_router(
        SurfaceRouter((*OPENSHOCK_PATHS, OPENSHOCK_ROOT), _openshock_routers(running, limits)),
        dependencies=[Depends(limits.edge)],
    )
    # FastAPI tries the routers in the order they were included, and each of their routes
    # in turn: tens of microseconds a request for a route far down the list. The writes
    # integrators send most come first (_rest_routers), the documentation pages last.
    for router in (*_rest_routers(running), *_gateways(running, sessions)):
        app.include_router(router)
    for router in _live_control(running, sessions):
        app.include_router(router)
    notifications = ChangeNotifications(running.feed, running.token_validator)
    signalr = HubServer(notifications.authenticate, sessions)
    # SENZ's sample connects to /v1/changenotifications; its API lives under /api/v1.
    app.include_router(
        signalr.router_for(
            notifications.hub(), "/v1/changenotifications", "/api/v1/changenotifications"
        )
    )
    for router in _openshock_signalr(running, signalr):
        app.include_router(router)
    # The admin routes of Pusher apps live under /api/v1 (they are Hubline's REST).
    app.include_router(_pusher_admin_router(running))
    pusher = _pusher_gateway(running, pusher_channels)
    install_api_docs(app)
    install_error_mapping(app, running.settings.pusher_path_prefix)
    pusher_apps = running.settings.pusher_path_prefix + "/apps/"
    app.add_middleware(
        RequestBodyLimit,
        default=running.settings.max_body_bytes,
        per_route={("POST", "/api/v1/deviceauth"): running.settings.max_upload_bytes},
        per_prefix=dict.fromkeys(("/apps/", pusher_apps), running.settings.pusher_max_body_bytes),
    )
    # Outermost: Pusher sockets and OpenShock hubs skip the framework's per-request layers
    # (gateways/pusher/endpoint.py, gateways/openshock/hub_socket.py).
    app.add_middleware(
        PusherSockets, gateway=pusher, path_prefix=running.settings.pusher_path_prefix
    )
    app.add_middleware(HubSockets, gateway=_hub_gateway(running, hub_connections, presence))

    # `hubline serve` says goodbye to SignalR and Pusher clients before uvicorn drops
    # their sockets.
    async def before_shutdown() -> None:
        await asyncio.gather(signalr.close_all(), pusher.close_all())
        await presence.stop()

    app.state.before_shutdown = before_shutdown
    return app


def _pusher_cache(services: Services) -> ChannelCache:
    # What this node's feed did not bring, the log's view holds (a node started later).
    return ChannelCache(
        stored=CacheChannelView(
            services.views,
            services.runner,
            services.store.head,
            services.settings.read_your_writes_timeout_seconds,
        )
    )


def _presence_cluster(services: Services, channels: ChannelRegistry) -> PresenceCluster:
    settings = services.settings
    cluster = PresenceCluster(
        channels,
        services.bus,
        services.pusher_leases,
        lambda node_id: services.aggregates.get(PusherNode, pusher_node_id(node_id)),
        LeaseTiming(
            renew_seconds=settings.pusher_lease_renew_seconds,
            expires_seconds=settings.pusher_lease_expires_seconds,
            sole_node=settings.log == "embedded",
        ),
    )
    services.feed.add_listener(cluster)
    return cluster


def _pusher_gateway(services: Services, channels: ChannelRegistry) -> PusherGateway:
    settings = services.settings
    services.feed.add_listener(PusherFanout(channels, services.pusher_apps))
    return PusherGateway(
        services.pusher_apps,
        channels,
        services.bus,
        PusherGatewaySettings(
            activity_timeout_seconds=settings.pusher_activity_timeout_seconds,
            pong_timeout_seconds=settings.pusher_pong_timeout_seconds,
        ),
    )


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
        deviceauth_router(bus, views, auth, settings.max_upload_bytes),
        senz_router(
            bus,
            views,
            services.natural_keys,
            SenzCallers(services.token_validator, services.rate_limiter),
        ),
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
        tokens_router(bus, views, auth),
        users_router(bus, views, auth),
        thermostat_admin_router(bus, services.natural_keys, auth),
        audit_router(views, auth),
    ]


def _openshock_limits(services: Services) -> RequestLimits:
    return RequestLimits(
        services.openshock_user_limiter,
        services.openshock_anonymous_limiter,
        services.openshock_auth_limiter,
    )


def _openshock_routers(services: Services, limits: RequestLimits) -> list[APIRouter]:
    settings, bus, views = services.settings, services.bus, services.view_reader
    auth = OpenShockAuth(
        services.authenticator, services.login_sessions, services.hub_tokens, limits
    )
    gateway = GatewayAddress(settings.openshock_gateway_url, settings.openshock_gateway_country)
    return [
        meta_router(auth, views, settings.issuer_url),
        account_router(
            bus,
            services.natural_keys,
            auth,
            secure_cookie=settings.issuer_url.startswith("https://"),
        ),
        sessions_router(bus, views, auth),
        openshock_tokens_router(bus, views, auth),
        # Before shockers_router: /1/shockers/logs is not a shocker's id.
        control_router(bus, auth),
        logs_router(views, auth),
        shockers_router(bus, views, auth),
        hubs_router(bus, views, auth, gateway, services.sealed_hub_tokens),
        hub_side_router(bus, views, auth, gateway, services.sealed_hub_tokens),
        shocker_shares_router(bus, views, auth),
        user_shares_router(bus, views, auth),
        share_links_router(bus, views, auth),
    ]


def _stale_hub_sessions(
    services: Services, connections: HubConnections, presence: PresenceCluster
) -> StaleHubSessions:
    settings = services.settings
    return StaleHubSessions(
        services.bus,
        services.view_reader,
        services.pusher_leases,
        connections,
        lambda: presence.node_id,
        expires_seconds=settings.pusher_lease_expires_seconds,
        every_seconds=settings.openshock_hub_sweep_seconds,
    )


def _hub_gateway(
    services: Services, connections: HubConnections, presence: PresenceCluster
) -> HubGateway:
    """The hub websocket (OpenShock's LCG /2/ws/hub and /1/ws/device) on this node."""
    settings = services.settings
    return HubGateway(
        services.bus,
        services.hub_tokens,
        connections,
        HubGatewaySettings(
            # The lease's id, so that a node found gone has its hubs recorded offline.
            node_id=lambda: presence.node_id,
            first_ping_seconds=settings.openshock_hub_first_ping_seconds,
            ping_every_seconds=settings.openshock_hub_ping_seconds,
            first_keep_alive_seconds=settings.openshock_hub_first_keep_alive_seconds,
            keep_alive_seconds=settings.openshock_hub_keep_alive_seconds,
            path_prefix=_gateway_prefix(settings),
        ),
    )


def _live_control(services: Services, sessions: LiveSessions) -> list[APIRouter]:
    """Live control (OpenShock's LCG /1/ws/live/{hubId}) on this node."""
    settings = services.settings
    live = LiveHubs(services.bus, services.feed, settings.node_id)
    auth = OpenShockSocketAuth(services.authenticator, services.login_sessions)
    routers = [live_control_gateway(auth, services.view_reader, live, sessions)]
    # Behind a gateway URL with a path prefix, clients dial {prefix}/1/ws/live/{hubId}:
    # served there too, for a proxy that passes the prefix on.
    prefix = _gateway_prefix(settings)
    if prefix:
        routers.append(live_control_gateway(auth, services.view_reader, live, sessions, prefix))
    return routers


def _gateway_prefix(settings: Settings) -> str:
    if not settings.openshock_gateway_url:
        return ""
    return parse_gateway_url(settings.openshock_gateway_url)[2]


def _openshock_signalr(services: Services, signalr: HubServer) -> list[APIRouter]:
    """OpenShock's SignalR hubs (/1/hubs/user, /1/hubs/share/link/{id}) on the SENZ hub's
    server, so that shutting down says goodbye to their clients too."""
    return openshock_signalr_routers(
        signalr,
        OpenShockSocketAuth(services.authenticator, services.login_sessions),
        services.bus,
        services.view_reader,
        services.feed,
    )


def _pusher_routers(services: Services, channels: ChannelQueries) -> list[APIRouter]:
    return [
        pusher_router(
            services.bus,
            services.pusher_apps,
            channels,
            services.pusher_api_limiter,
            services.settings.pusher_path_prefix,
        ),
    ]


def _pusher_admin_router(services: Services) -> APIRouter:
    box = services.secret_box
    return pusher_admin_router(
        services.bus,
        services.view_reader,
        RequestAuthenticator(services.authenticator),
        lambda secret: seal_secret(box, secret),
    )


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
