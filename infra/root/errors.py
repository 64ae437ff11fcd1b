"""Each surface answers errors in its own format; the path says which surface a request is for."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.identity.errors import to_oauth_error
from api.problem import Problem, to_problem
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
)
_SENZ_PATHS = ("/api/v1/Account", "/api/v1/Thermostat", "/api/v1/Mode")


def install_error_mapping(app: FastAPI) -> None:
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
