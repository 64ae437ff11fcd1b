"""From the log feed to this node's Pusher sockets, in log order, on the event loop.

Each event is encoded once per channel, text and websocket frame (SharedText), and the
same object is queued to every subscriber; queuing never waits for a client (see
connection.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from domain.pusher.apps import AppDirectory
from gateways.pusher import protocol
from gateways.pusher.cache import is_cache_channel
from gateways.pusher.channels import ChannelRegistry
from gateways.pusher.connection import Ending, SharedText
from projections.pusher_deliveries import (
    AppChanged,
    AppDisabled,
    ChannelEvent,
    UserDisconnected,
    pusher_deliveries,
)
from projections.records import LogRecord

log = logging.getLogger(__name__)

_TERMINATED = protocol.error("You got disconnected by the app.", protocol.UNAUTHORIZED)
_DISABLED = protocol.error("Application is disabled", protocol.APP_DISABLED)


class PusherFanout:
    def __init__(self, registry: ChannelRegistry, apps: AppDirectory) -> None:
        self._registry = registry
        self._apps = apps
        self._refreshing: set[asyncio.Task[None]] = set()

    def __call__(self, records: Sequence[LogRecord]) -> None:
        registry = self._registry
        for record in records:
            for delivery in pusher_deliveries(record):
                if isinstance(delivery, ChannelEvent):
                    extra = {"user_id": delivery.user_id} if delivery.user_id is not None else {}
                    text = SharedText(
                        protocol.event(delivery.name, delivery.data, delivery.channel, **extra)
                    )
                    if is_cache_channel(delivery.channel):
                        registry.cache.remember(
                            delivery.app_id, delivery.channel, text, delivery.data
                        )
                    registry.publish(
                        delivery.app_id, delivery.channel, text, delivery.excluded_socket_id
                    )
                elif isinstance(delivery, UserDisconnected):
                    for connection in registry.user_connections(delivery.app_id, delivery.user_id):
                        connection.end(
                            Ending(protocol.UNAUTHORIZED, "Terminated by the app", _TERMINATED)
                        )
                elif isinstance(delivery, AppDisabled):
                    for connection in registry.app_connections(delivery.app_id):
                        connection.end(
                            Ending(protocol.APP_DISABLED, "Application is disabled", _DISABLED)
                        )
                elif isinstance(delivery, AppChanged):
                    # Read after every listener of this batch ran (the directory forgets
                    # the app in one of them), and in a thread: a miss reads the store.
                    task = asyncio.get_running_loop().create_task(self._refresh(delivery.app_id))
                    self._refreshing.add(task)
                    task.add_done_callback(self._refreshing.discard)

    async def _refresh(self, app_id: str) -> None:
        try:
            app = await asyncio.to_thread(self._apps.by_id, app_id)
        except Exception:
            log.exception("could not read Pusher app %s again", app_id)
            return
        if app is not None:
            for connection in self._registry.app_connections(app_id):
                connection.app = app
