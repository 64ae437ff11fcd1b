"""uvicorn's httptools protocol, bounded: how long and how large a request head may be.

uvicorn itself waits forever for a request head that never ends (it times out only idle
keep-alive connections), accepts headers of any size (httptools has no limit), and does not
count websocket upgrades against `limit_concurrency`. Here a connection must deliver each
request head within `header_timeout_seconds` (408, or closed quietly if it sent nothing), a
request target longer than `max_url_bytes` is answered 414, a header block larger than
`max_header_bytes` 431, and an upgrade beyond the concurrency limit 503, like any request.
"""

from __future__ import annotations

import asyncio
import http
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from infra.transport.config import ServerConfig


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; `refusal` says how to answer."""


class BoundedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if not isinstance(config, ServerConfig):
            raise TypeError("BoundedHttpProtocol needs a ServerConfig (it carries the limits)")
        self.limits = config.limits
        self.head_timer: asyncio.TimerHandle | None = None
        # Whether the next bytes belong to a request head, and how many arrived since it began.
        self.reading_head = True
        self.head_started = False
        self.head_bytes = 0
        self.header_bytes = 0
        self.refusal: tuple[int, str] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.reading_head:
            self.head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self.refusal is not None:
                self._refuse(*self.refusal)
            elif self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self.refusal is not None:
                self._refuse(*self.refusal)
            else:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        # httptools keeps a header's value until the header ends: count the raw bytes too,
        # so that one endless header is refused before it is held in memory.
        if self.reading_head and self.head_bytes > (
            self.limits.max_url_bytes + self.limits.max_header_bytes
        ):
            self._refuse(431, f"headers larger than {self.limits.max_header_bytes} bytes")

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head = True
        self.head_started = True
        self.header_bytes = 0
        self._start_head_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            self._stop_parsing(414, f"request target longer than {self.limits.max_url_bytes} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self.header_bytes > self.limits.max_header_bytes:
            self._stop_parsing(431, f"headers larger than {self.limits.max_header_bytes} bytes")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        self.reading_head = False
        self.head_started = False
        self.head_bytes = 0
        # uvicorn checks the concurrency limit only for plain requests; an upgrade is a
        # connection that may stay open for days, so it counts all the more.
        if self.parser.should_upgrade() and self._should_upgrade() and self._at_capacity():
            self.logger.warning("Exceeded concurrency limit.")
            self._stop_parsing(503, "concurrency limit reached")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.reading_head = True
        self.head_bytes = 0

    # Refusals

    def _stop_parsing(self, status: int, reason: str) -> None:
        self.refusal = (status, reason)
        raise _Refused(reason)

    def _at_capacity(self) -> bool:
        limit = self.limit_concurrency
        return limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit)

    def _refuse(self, status: int, reason: str) -> None:
        self._stop_head_timer()
        self.logger.info("%s - refused: %d %s", self._peer(), status, reason)
        body = f"{http.HTTPStatus(status).phrase}: {reason}.\n".encode()
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()

    # The head timer

    def _start_head_timer(self) -> None:
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(
                self.limits.header_timeout_seconds, self._head_timed_out
            )

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head is late while a response is being written: end after it.
            self.cycle.keep_alive = False
        elif self.head_started:
            seconds = self.limits.header_timeout_seconds
            self._refuse(408, f"no complete request head within {seconds:g} seconds")
        else:
            self.logger.debug("%s - closing a connection that sent nothing", self._peer())
            self.transport.close()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "-"
