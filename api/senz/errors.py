"""SENZ's error format: {"messages": [...]} with the status code (seeds/senz-restapi.md)."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.problem import Problem
from domain.errors import DomainError, NotFound


def messages(status: int, *texts: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"messages": list(texts)}, status_code=status, headers=headers)


def to_senz_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, Problem):
        return messages(exc.status, exc.detail, headers=exc.headers)
    if isinstance(exc, NotFound):
        return messages(404, str(exc))
    if isinstance(exc, DomainError):
        return messages(400, str(exc))
    if isinstance(exc, RequestValidationError):
        return messages(400, *(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    if isinstance(exc, StarletteHTTPException):
        return messages(exc.status_code, str(exc.detail))
    return messages(500, "An unexpected error occurred.")
