"""The identity surface answers errors as OAuth 2.0 does: {"error", "error_description"}."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.problem import Problem

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**_NO_STORE, **(headers or {})},
    )


def to_oauth_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, OAuth2Error):
        return oauth_error(exc.status_code, exc.error, exc.get_error_description() or exc.error)
    if isinstance(exc, Problem):
        error = {401: "invalid_token", 413: "invalid_request", 415: "invalid_request"}.get(
            exc.status, "invalid_request" if exc.status < 500 else "server_error"
        )
        return oauth_error(exc.status, error, exc.detail, exc.headers)
    if isinstance(exc, RequestValidationError):
        return oauth_error(400, "invalid_request", "the request parameters are not valid")
    if isinstance(exc, StarletteHTTPException):
        error = "invalid_request" if exc.status_code < 500 else "server_error"
        return oauth_error(exc.status_code, error, str(exc.detail))
    return oauth_error(500, "server_error", "an unexpected error occurred; it has been logged")
