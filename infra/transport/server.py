"""Runs an ASGI app under uvicorn with the transport limits of the settings."""

from __future__ import annotations

import gc
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

from infra.settings import Settings
from infra.transport.config import ServerConfig, TransportLimits
from infra.transport.http_protocol import BoundedHttpProtocol
from infra.transport.websocket_protocol import WebSocketProtocol

log = logging.getLogger(__name__)


def server_config(app: Any, settings: Settings) -> ServerConfig:
    return ServerConfig(
        app,
        TransportLimits(
            header_timeout_seconds=settings.header_timeout_seconds,
            max_url_bytes=settings.max_url_bytes,
            max_header_bytes=settings.max_header_bytes,
        ),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        http=BoundedHttpProtocol,
        ws=WebSocketProtocol,
        ws_max_size=settings.max_websocket_message_bytes,
        ws_per_message_deflate=False,
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )


class _Server(uvicorn.Server):
    def __init__(
        self, config: uvicorn.Config, before_shutdown: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(config)
        self._before_shutdown = before_shutdown

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # The app and its services are built and started: what exists now lives as long
        # as the process. Frozen out of the cyclic collector's reach, it is no longer
        # walked by every full collection (100-160 ms each on a busy server, measured:
        # the push latency's tail); Python's thresholds stay, so that the young
        # collections stay small (a larger first threshold made them rarer but long).
        gc.collect()
        gc.freeze()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn closes websockets before the app's own shutdown runs: speak first.
        try:
            await self._before_shutdown()
        except Exception:
            log.exception("could not close the websocket sessions cleanly")
        await super().shutdown(sockets)


def serve(app: Any, settings: Settings, before_shutdown: Callable[[], Awaitable[None]]) -> None:
    """Serve until SIGINT/SIGTERM; `before_shutdown` runs before uvicorn closes websockets."""
    _Server(server_config(app, settings), before_shutdown).run()
