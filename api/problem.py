"""Hubline's own error format (RFC 9457 problem details), used by DeviceAuth and Audit."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import ConcurrencyConflict, DomainError, NotFound, ViewsBehind

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers


def problem_response(
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def to_problem(request: Request, exc: Exception) -> JSONResponse:
    """Map anything a DeviceAuth or Audit route raised to a problem response."""
    if isinstance(exc, Problem):
        return problem_response(exc.status, exc.detail, exc.errors, exc.headers)
    if isinstance(exc, RequestValidationError):
        errors = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return problem_response(400, "the request is not valid", errors)
    if isinstance(exc, StarletteHTTPException):
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(exc.status_code, str(exc.detail), headers=headers)
    if isinstance(exc, NotFound):
        return problem_response(404, str(exc))
    if isinstance(exc, ConcurrencyConflict):
        return problem_response(409, str(exc))
    if isinstance(exc, ViewsBehind):
        return problem_response(503, str(exc), headers={"Retry-After": "1"})
    if isinstance(exc, (DomainError, ValueError)):
        return problem_response(400, str(exc))
    return problem_response(500, "an unexpected error occurred; it has been logged")


_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
_MEANINGS = {
    400: "The request is not valid; `errors` names what is wrong, nothing was changed",
    401: "No bearer token, or one that is not valid",
    403: "The credential lacks the permission this route needs",
    404: "Not found",
    409: "Another writer changed the same thing; try again",
    413: "The request body is larger than this route accepts",
    415: "This route does not take that content type",
}


def problem_responses(
    *statuses: int, described: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` for the errors it can answer, as problem details; `described`
    says more than the usual meaning where a route has more to say."""
    return {
        status: {
            "description": (described or {}).get(status, _MEANINGS[status]),
            "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}},
        }
        for status in statuses
    }
