"""OpenShock's one error format: RFC 7807 problem details as the real backend writes them.

`{type, title, status, detail, requestId, message, traceId}` plus the problem's extensions
(`errors`, `requiredPermission`, `grantedPermissions`, `shockerId`, ...). `type` is the
real backend's problem name ("Device.NotFound"); `message` (detail, else title) and
`traceId` (= requestId) are deprecated there but still written, and older clients read them.
A refusal of the domain names its problem in `DomainError.code`; the status comes from the
table below, never from the message. Rate-limit refusals are plain text, as the real
backend's rate limiter answers them.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import ConcurrencyConflict, DomainError, NotFound, ViewsBehind
from domain.openshock.errors import InvalidRequest, OpenShockRefusal
from infra.openshock.problems import PROBLEM_JSON, problem_body, request_id_of

TOO_MANY_REQUESTS = "Too Many Requests. Please try again later."

# The real backend's status for each problem type the domain or the edge raises.
STATUS_BY_TYPE: dict[str, int] = {
    "Validation.Error": 400,
    "Endpoint.Retired": 410,
    "Authentication.CookieMissingOrInvalid": 401,
    "Authentication.HeaderMissingOrInvalid": 401,
    "Authentication.SessionInvalid": 401,
    "Authentication.TokenInvalid": 401,
    "Authentication.AccountNotActivated": 401,
    "Authentication.AccountDeactivated": 401,
    "Authorization.UserSession.Only": 403,
    "Authorization.Token.Only": 403,
    "Authorization.Token.PermissionMissing": 403,
    "Authorization.Policy.NotMet": 403,
    "Account.Username.Taken": 409,
    "Account.Username.Invalid": 400,
    "Account.Username.RecentlyChanged": 403,
    "Account.Password.OldPasswordInvalid": 403,
    "Account.AccountNotActivated": 401,
    "Account.Deactivated": 401,
    "Login.InvalidCredentials": 401,
    "Login.InvalidDomain": 403,
    "Signup.UsernameOrEmailExists": 409,
    "Signup.RegistrationDisabled": 403,
    "Session.NotFound": 404,
    "User.NotFound": 404,
    "ApiToken.NotFound": 404,
    "ApiToken.CanOnlyDeleteSelf": 403,
    "ApiToken.Paused": 403,
    "Device.NotFound": 404,
    "Device.NotOnline": 404,
    "Device.TooManyHubs": 409,
    "Device.TooManyShockers": 400,
    "Pair.CodeNotFound": 404,
    "Pair.CodeTaken": 409,
    "Shocker.NotFound": 404,
    "Shocker.Control.NotFound": 404,
    "Shocker.Control.Paused": 412,
    "Shocker.Control.NoPermission": 403,
    "ShareCode.NotFound": 404,
    "ShareCode.CantLinkOwnShareCode": 400,
    "ShareCode.AlreadyLinked": 400,
    "Share.Request.NotFound": 404,
    "Share.Request.Create.CannotShareWithSelf": 400,
    "Share.Request.Create.ShockerNotFound": 404,
    "Share.Get.NoShares": 404,
    "Share.User.NotFound": 404,
    "ShareLink.NotFound": 404,
    "ShareLink.Cooldown": 412,
    "ShareLink.ShockerAlreadyInShareLink": 409,
    "ShareLink.ShockerNotInShareLink": 404,
    "ShareLink.ExpiryDateInPast": 400,
    "AssignLcg.NoLcgAvailable": 503,
    "AssignLcg.BadSchemaVersion": 400,
}

# The real backend's titles, for refusals whose class carries none.
_TITLES: dict[str, str] = {
    "Validation.Error": "One or more validation errors occurred",
    "Account.Username.Taken": "This username is already in use",
    "Account.Username.Invalid": "This username is invalid",
    "Account.Username.RecentlyChanged": (
        "You have recently changed your username. You can only change your username every 7 days"
    ),
    "Signup.UsernameOrEmailExists": "The chosen username or email is already in use",
    "Session.NotFound": "The session was not found",
    "ApiToken.NotFound": "Api token not found",
    "User.NotFound": "User not found",
}

# What the transport refuses before a route runs; the real backend leaves these to Kestrel
# (an empty body), we answer them in the surface's format under names of our own.
_HTTP_TYPES: dict[int, tuple[str, str]] = {
    400: ("Request.Invalid", "The request is not valid"),
    401: ("Authentication.HeaderMissingOrInvalid", "Missing or invalid authentication header."),
    403: ("Request.Forbidden", "Forbidden"),
    404: ("Request.NotFound", "No such endpoint"),
    405: ("Request.MethodNotAllowed", "This endpoint does not take that method"),
    408: ("Request.Timeout", "The request took too long to arrive"),
    413: ("Request.TooLarge", "The request body is too large"),
    415: ("Request.UnsupportedMediaType", "This endpoint does not take that content type"),
    503: ("Service.Unavailable", "The service is unavailable, try again shortly"),
}


class OpenShockProblem(Exception):
    """A refusal made at the edge (authentication, retired endpoints, login), by type."""

    def __init__(
        self,
        type_: str,
        title: str,
        status: int,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.type = type_
        self.title = title
        self.status = status
        self.detail = detail
        self.headers = headers
        self.extensions = extensions


class TooManyRequests(Exception):
    """A rate limit refused the request: 429, plain text, Retry-After in seconds."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(TOO_MANY_REQUESTS)
        self.retry_after_seconds = max(1, retry_after_seconds)


def too_many_requests(retry_after_seconds: int) -> PlainTextResponse:
    return PlainTextResponse(
        TOO_MANY_REQUESTS,
        status_code=429,
        headers={"Retry-After": str(max(1, retry_after_seconds))},
    )


def endpoint_retired(replacement: str) -> OpenShockProblem:
    return OpenShockProblem(
        "Endpoint.Retired",
        "This endpoint has been retired",
        410,
        f"This endpoint is no longer available. Please use {replacement} instead.",
    )


def problem_response(
    request: Request,
    type_: str,
    title: str,
    status: int,
    detail: str | None = None,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(type_, title, status, request_id_of(request), detail, extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def to_openshock_problem(request: Request, exc: Exception) -> Response:
    """Map anything an OpenShock route (or the transport before it) raised to its format."""
    if isinstance(exc, TooManyRequests):
        return too_many_requests(exc.retry_after_seconds)
    if isinstance(exc, OpenShockProblem):
        return problem_response(
            request, exc.type, exc.title, exc.status, exc.detail, exc.extensions, exc.headers
        )
    if isinstance(exc, RequestValidationError):
        return _validation(request, _validation_errors(exc.errors()))
    if isinstance(exc, StarletteHTTPException):
        return _http(request, exc)
    if isinstance(exc, DomainError) and exc.code is not None:
        return _refusal(request, exc, exc.code)
    if isinstance(exc, NotFound):
        return problem_response(request, "Request.NotFound", "Not found", 404, str(exc))
    if isinstance(exc, ConcurrencyConflict):
        return problem_response(
            request, "Request.Conflict", "Another request changed the same thing", 409, str(exc)
        )
    if isinstance(exc, ViewsBehind):
        return problem_response(
            request, "Service.Unavailable", "The service is busy, try again shortly", 503,
            str(exc), headers={"Retry-After": "1"},
        )  # fmt: skip
    if isinstance(exc, (DomainError, ValueError)):
        return _validation(request, {"$": [str(exc)]})
    return problem_response(
        request, "Internal.Error", "An unexpected error occurred; it has been logged", 500
    )


def _refusal(request: Request, exc: DomainError, code: str) -> JSONResponse:
    extensions: dict[str, Any] = {}
    title = _TITLES.get(code, "The request was refused")
    if isinstance(exc, OpenShockRefusal):
        extensions = dict(exc.extensions)
        title = exc.title
    if isinstance(exc, InvalidRequest):
        extensions["errors"] = exc.errors or {"$": [str(exc)]}
    reason = getattr(exc, "reason", None)
    if code == "Account.Username.Invalid" and isinstance(reason, str):
        extensions["usernameError"] = {"type": reason, "message": str(exc)}
    detail: str | None = str(exc)
    if not isinstance(exc, OpenShockRefusal) and code != "Account.Username.Invalid":
        # Hubline's own wording of an identity refusal, which may say more than OpenShock
        # does (a signup refused for its e-mail, not its name): the title says enough.
        detail = None
    return problem_response(
        request,
        code,
        title,
        STATUS_BY_TYPE.get(code, 404 if isinstance(exc, NotFound) else 400),
        None if detail == title else detail,
        extensions,
    )


def _validation(request: Request, errors: dict[str, list[str]]) -> JSONResponse:
    return problem_response(
        request,
        "Validation.Error",
        _TITLES["Validation.Error"],
        400,
        extensions={"errors": errors},
    )


def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    type_, title = _HTTP_TYPES.get(exc.status_code, ("Request.Refused", "Refused"))
    detail = str(exc.detail) if exc.detail else None
    # Starlette's own texts ("Not Found") say no more than the title.
    if detail == _phrase(exc.status_code):
        detail = None
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(request, type_, title, exc.status_code, detail, headers=headers)


def _phrase(status: int) -> str | None:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None


def _validation_errors(raw: Any) -> dict[str, list[str]]:
    """FastAPI's error list as the real backend's `errors`: a JSON path per field, its
    messages; a body that is not JSON at all is `$`, as System.Text.Json names the root."""
    errors: dict[str, list[str]] = {}
    for error in raw:
        path = "$" if error.get("type") == "json_invalid" else _path(error.get("loc", ()))
        errors.setdefault(path, []).append(str(error.get("msg", "")))
    return errors or {"$": ["The input was not valid"]}


def _path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "$"
