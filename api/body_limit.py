"""Bounds every request body while it is read, so no client can make the server hold more.

Content-Length is checked before the first byte is read (within it, the server reads no
more); a chunked body is counted as it arrives. The refusal is a 413 that each surface's
error mapper answers in its own format.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestBodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        default: int,
        per_route: Mapping[tuple[str, str], int],
        per_prefix: Mapping[str, int] | None = None,
    ) -> None:
        self._app = app
        self._default = default
        # (method, path) -> bytes, for routes that take more (an access-list upload).
        self._per_route = dict(per_route)
        # path prefix -> bytes, for routes whose paths hold ids (Pusher's /apps/{id}/…).
        self._per_prefix = tuple((per_prefix or {}).items())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self._per_route.get((scope["method"], scope["path"]), self._default)
        for prefix, bytes_allowed in self._per_prefix:
            if scope["path"].startswith(prefix):
                limit = bytes_allowed
        declared = _content_length(scope)
        if declared is not None and declared <= limit:
            # The server reads no more than a declared length, so nothing is left to count.
            await self._app(scope, receive, send)
            return
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise _too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        await self._app(scope, bounded_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # The server already refused a Content-Length that is not a number.
            return int(value) if value.isdigit() else None
    return None


def _too_large(limit: int) -> HTTPException:
    # FastAPI's own HTTPException: its body parser passes it on instead of answering 400.
    return HTTPException(413, f"The request body is larger than {limit} bytes.")
