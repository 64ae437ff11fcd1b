"""Which app a signed request is for, checked before any of its body is read or parsed."""

from __future__ import annotations

import time

from fastapi import Request

from api.pusher.errors import PusherError
from api.pusher.signature import SignatureRefused, check_body, check_query
from domain.pusher.apps import AppConfig, AppDirectory


class SignedRequests:
    def __init__(self, apps: AppDirectory) -> None:
        self._apps = apps

    def app_for(self, request: Request, app_id: str | None) -> tuple[AppConfig, str | None]:
        """The app that signed the request, and the body_md5 it signed (if any).

        `app_id` is the one in the path; None on the route Pusher's Python library uses for
        terminate_connections, which names the app only by its key.
        """
        params = request.query_params.multi_items()
        key = request.query_params.get("auth_key")
        if app_id is not None:
            app = self._apps.by_id(app_id)
            if app is None:
                raise PusherError(404, f"The app {app_id[:40]} could not be found", "app_not_found")
        else:
            app = self._apps.by_key(key) if key else None
            if app is None:
                raise PusherError(401, "auth_key names no app", "auth_failed")
        if key != app.key:
            raise SignatureRefused("auth_key is not this app's key")
        body_md5 = check_query(app.secret, request.method, request.url.path, params, time.time())
        if not app.enabled:
            raise PusherError(403, "The app is disabled", "forbidden")
        return app, body_md5

    @staticmethod
    async def body(request: Request, body_md5: str | None, limit: int) -> bytes:
        """The raw body, read no further than `limit` bytes, checked against its body_md5."""
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        body = b"".join(chunks)
        check_body(body, body_md5)
        return body


def _too_large(limit: int) -> PusherError:
    return PusherError(413, f"The request body is larger than this app allows ({limit} bytes)")
