"""The Pusher HTTP API's one error format, as Sockudo answers: {"error", "code", "status"}.

Pusher's server libraries read only the status (400, 401, 403, …); the body is for people.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.pusher.signature import SignatureRefused
from domain.errors import ConcurrencyConflict, DomainError, NotFound, ViewsBehind

# Sockudo's codes for each status this surface answers.
_CODES = {
    400: "invalid_input",
    401: "auth_failed",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class PusherError(Exception):
    def __init__(
        self, status: int, message: str, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, "error")
        self.retry_after = retry_after


def pusher_error_response(status: int, message: str, code: str | None = None) -> JSONResponse:
    body = {"error": message, "code": code or _CODES.get(status, "error"), "status": status}
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    return JSONResponse(body, status_code=status, headers=headers)


def to_pusher_error(request: Request, exc: Exception) -> JSONResponse:
    """Map anything a Pusher route (or the transport before it) raised to Sockudo's shape."""
    if isinstance(exc, PusherError):
        response = pusher_error_response(exc.status, exc.message, exc.code)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, SignatureRefused):
        return pusher_error_response(401, str(exc))
    if isinstance(exc, RequestValidationError):
        return pusher_error_response(400, "The received data is incorrect")
    if isinstance(exc, StarletteHTTPException):
        return pusher_error_response(exc.status_code, str(exc.detail))
    if isinstance(exc, NotFound):
        return pusher_error_response(404, str(exc))
    if isinstance(exc, ConcurrencyConflict):
        return pusher_error_response(409, str(exc))
    if isinstance(exc, DomainError):
        return pusher_error_response(400, str(exc))
    if isinstance(exc, ViewsBehind):
        return pusher_error_response(503, str(exc))
    return pusher_error_response(500, "internal server error")
