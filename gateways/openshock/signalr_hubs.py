"""OpenShock's two SignalR hubs on a hub server: /1/hubs/user and /1/hubs/share/link/{id},
sharing one delivery of the log's notices."""

from __future__ import annotations

from fastapi import APIRouter

from gateways.openshock.hub_notices import HubNotices
from gateways.openshock.share_link_hub import ShareLinkHub
from gateways.openshock.socket_auth import OpenShockSocketAuth
from gateways.openshock.user_hub import UserHub
from gateways.signalr.hub_server import HubServer
from infra.command_bus import CommandBus
from infra.log.feed import LogFeed
from infra.store.view_reader import ViewReader


def openshock_signalr_routers(
    server: HubServer,
    auth: OpenShockSocketAuth,
    bus: CommandBus,
    views: ViewReader,
    feed: LogFeed,
) -> list[APIRouter]:
    notices = HubNotices(feed, views)
    return [
        server.router_for(UserHub(auth, bus, views, notices).hub()),
        server.router_for(ShareLinkHub(auth, bus, views, notices).hub()),
    ]
