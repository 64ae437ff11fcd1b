"""Each surface answers errors in its own format; the path says which surface a request is for."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from api.identity.errors import to_oauth_error
from api.openshock import OPENSHOCK_PATHS, OPENSHOCK_ROOT
from api.openshock.errors import OpenShockProblem, TooManyRequests, to_openshock_problem
from api.problem import Problem, to_problem
from api.pusher.errors import PusherError, to_pusher_error
from api.pusher.routes import PUSHER_PATHS
from api.pusher.signature import SignatureRefused
from api.senz.caller import RateLimited
from api.senz.errors import to_senz_error
from domain.errors import DomainError, ViewsBehind

log = logging.getLogger(__name__)

_EXPECTED = (
    Problem,
    RequestValidationError,
    StarletteHTTPException,
    DomainError,
    ViewsBehind,
    RateLimited,
    PusherError,
    SignatureRefused,
    OpenShockProblem,
    TooManyRequests,
)
_SENZ_PATHS = ("/api/v1/Account", "/api/v1/Thermostat", "/api/v1/Mode")
_IDENTITY_PATHS = ("/connect/", "/.well-known/", "/account/")
# The device-flow page belongs to the identity provider, like its login page.
_IDENTITY_PAGES = ("/device",)
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Messages may name what the request named (a path segment can be 64 KB long): enough of it
# to recognise, never the whole.
_MAX_DETAIL_CHARS = 200


def install_error_mapping(app: FastAPI, pusher_prefix: str = "") -> None:
    """Each surface answers errors in its own format; the path says which surface it is."""
    pusher_paths = (*PUSHER_PATHS, *(pusher_prefix + p for p in PUSHER_PATHS if pusher_prefix))

    async def handle(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, _EXPECTED):
            log.exception(
                "unhandled error on %s %s", request.method, request.url.path, exc_info=exc
            )
        if isinstance(exc, RateLimited):
            return exc.response  # type: ignore[return-value]
        response = _in_surface_format(request, _bounded(exc), pusher_paths)
        if response.status_code == 405:
            # Starlette names only the methods of the first route whose path matched, and
            # some surfaces' formats drop headers; the methods routed for the path are these.
            response.headers["Allow"] = ", ".join(_allowed_methods(app, request))
        return response

    for kind in (*_EXPECTED, Exception):
        app.add_exception_handler(kind, handle)

    async def client_gone(request: Request, exc: Exception) -> Response:
        # The client closed the connection while its body was being read: nothing is wrong
        # here, and no one is left to read an answer (uvicorn drops it).
        log.debug("client disconnected during %s %s", request.method, request.url.path)
        return Response(status_code=400)

    app.add_exception_handler(ClientDisconnect, client_gone)


def _in_surface_format(request: Request, exc: Exception, pusher_paths: tuple[str, ...]) -> Response:
    path = request.url.path
    if path.startswith(OPENSHOCK_PATHS) or path == OPENSHOCK_ROOT:
        return to_openshock_problem(request, exc)
    if path.startswith(pusher_paths):
        return to_pusher_error(request, exc)
    if path.startswith(_SENZ_PATHS):
        return to_senz_error(request, exc)
    if path.startswith(_IDENTITY_PATHS) or path in _IDENTITY_PAGES:
        return to_oauth_error(request, exc)
    return to_problem(request, exc)


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in app.router.routes
        )
    ]


def _bounded(exc: Exception) -> Exception:
    """The same error with its message cut to _MAX_DETAIL_CHARS."""
    text = exc.detail if isinstance(exc, (Problem, StarletteHTTPException)) else str(exc)
    if not isinstance(text, str) or len(text) <= _MAX_DETAIL_CHARS:
        return exc
    short = text[:_MAX_DETAIL_CHARS] + "…"
    if isinstance(exc, Problem):
        return Problem(exc.status, short, exc.errors, exc.headers)
    if isinstance(exc, StarletteHTTPException):
        return StarletteHTTPException(exc.status_code, short, exc.headers)
    if isinstance(exc, DomainError):
        return type(exc)(short)
    return exc
