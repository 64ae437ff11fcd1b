"""/connect/authorize and the login page it sends people to (OAuth 2.0 §4.1, OIDC Core §3.1)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.identity import schemas
from api.identity.authorization_server import HublineAuthorizationServer
from api.identity.oauth_models import HublineRequest, Principal
from api.identity.pages import (
    consent_page,
    device_done_page,
    device_page,
    error_page,
    login_page,
    signed_out_page,
)
from api.identity.session import Session, Sessions
from api.identity.token_requests import read_form
from domain.errors import DomainError
from domain.identity.commands import DecideDeviceAuthorization, GrantConsent
from domain.identity.user import User
from infra.command_bus import CommandBus
from infra.identity.access_tokens import AccessTokens, InvalidAccessToken
from infra.request_context import command_context
from infra.store.natural_keys import NaturalKeys

_LOGIN = "/account/login"
_NO_STORE = {"Cache-Control": "no-store"}
_AUTHORIZE_PATH = "/connect/authorize"
_DEVICE_PATH = "/device"
_AUTHORIZE_PAGES = {
    200: "The consent page",
    302: "To the login page, or back to the client with a code, tokens or an error",
    400: "An error page: the client or its redirect URI is not valid",
}
_END_SESSION_PAGES = {
    200: "Signed out",
    302: "Signed out: to the client's registered post-logout redirect URI",
}


def _as_response(status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
    header_map = {**dict(headers), **_NO_STORE}
    if isinstance(body, str):
        return HTMLResponse(body, status, header_map)
    return Response(status_code=status, headers=header_map)


def _login_required(grant: Any) -> OAuth2Error:
    from authlib.oidc.core.errors import LoginRequiredError

    return LoginRequiredError(redirect_uri=grant.redirect_uri, state=grant.request.payload.state)


def _consent_required(grant: Any) -> OAuth2Error:
    from authlib.oidc.core.errors import ConsentRequiredError

    return ConsentRequiredError(redirect_uri=grant.redirect_uri, state=grant.request.payload.state)


def _max_age_invalid(grant: Any, params: dict[str, str]) -> OAuth2Error | None:
    """OIDC Core §3.1.2.1: max_age is a whole number of seconds (ASCII digits, bounded)."""
    max_age = params.get("max_age")
    if max_age is None or _is_seconds(max_age):
        return None
    return InvalidRequestError(
        "max_age must be a whole number of seconds.",
        redirect_uri=grant.redirect_uri,
        state=grant.request.payload.state,
    )


def _is_seconds(value: str) -> bool:
    # str.isdigit also accepts "²" and other digits int() refuses; a year fits in 10 digits.
    return value.isascii() and value.isdigit() and len(value) <= 10


# RFC 6749 Appendix A: these are printable ASCII. authlib echoes some of them in an error
# description, which it refuses to build (ValueError) from any other character.
_ASCII_PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "response_mode",
)


def _non_ascii_parameter(params: dict[str, str]) -> str | None:
    for name in _ASCII_PARAMETERS:
        value = params.get(name, "")
        if not all(" " <= c <= "~" for c in value):
            return name
    return None


def _too_old(params: dict[str, str], session: Session | None) -> bool:
    max_age = params.get("max_age")
    if session is None or max_age is None or not _is_seconds(max_age):
        return False
    return time.time() - session.auth_time > int(max_age)


def _to_login(params: dict[str, str]) -> Response:
    # Back to this request after login, without the parameters that asked for it.
    again = {k: v for k, v in params.items() if k not in ("prompt", "max_age")}
    return_url = f"{_AUTHORIZE_PATH}?{urlencode(again)}"
    return RedirectResponse(f"{_LOGIN}?{urlencode({'ReturnUrl': return_url})}", 302, _NO_STORE)


class MalformedReturnUrl(Exception):
    pass


def _safe_return_url(raw: str | None) -> str:
    """Only back into our own authorize endpoint: never an open redirect."""
    if not raw or len(raw) > 4096:
        return "/"
    try:
        parts = urlsplit(raw)
    except ValueError:
        raise MalformedReturnUrl(raw) from None
    local = parts.path in (_AUTHORIZE_PATH, _DEVICE_PATH)
    if parts.scheme or parts.netloc or not local or raw.startswith("//"):
        return "/"
    return raw


def _malformed_return_url() -> Response:
    return HTMLResponse(error_page("The return address is not a valid URL."), 400, _NO_STORE)


def _client_of(return_url: str) -> str | None:
    from urllib.parse import parse_qs

    values = parse_qs(urlsplit(return_url).query).get("client_id")
    return values[0] if values else None


def sign_in_router(
    server: HublineAuthorizationServer,
    sessions: Sessions,
    tokens: AccessTokens,
    natural_keys: NaturalKeys,
    bus: CommandBus,
) -> APIRouter:
    """Authorization, login, logout and device approval: the pages a person signs in on."""
    router = APIRouter(tags=["Identity"])

    @router.get(
        _AUTHORIZE_PATH,
        summary="Authorization endpoint",
        response_class=HTMLResponse,
        responses=schemas.pages(_AUTHORIZE_PAGES),
        openapi_extra=schemas.query(schemas.AUTHORIZE_QUERY),
    )
    async def authorize_get(request: Request) -> Response:
        return await _authorize(request, dict(request.query_params), consent=None)

    @router.post(
        _AUTHORIZE_PATH,
        summary="Authorization endpoint (form)",
        response_class=HTMLResponse,
        responses=schemas.pages(_AUTHORIZE_PAGES, errors=(400, 413, 415)),
        openapi_extra=schemas.form(schemas.AUTHORIZE_FORM),
    )
    async def authorize_post(request: Request) -> Response:
        form = await read_form(request)
        consent = form.pop("consent", None)
        csrf = form.pop("csrf", None)
        if consent is not None and not sessions.csrf_valid(request, csrf):
            return HTMLResponse(error_page("The form expired; start again."), 400, _NO_STORE)
        return await _authorize(request, form, consent=consent)

    async def _authorize(request: Request, params: dict[str, str], consent: str | None) -> Response:
        session = sessions.read(request)
        user = await run_in_threadpool(_session_user, session)
        principal = Principal(user, session.auth_time) if user and session else None
        not_ascii = _non_ascii_parameter(params)
        if not_ascii is not None:
            # No redirect: the redirect URI itself may be the parameter at fault.
            message = f"The parameter {not_ascii} must be printable ASCII."
            return HTMLResponse(error_page(message), 400, _NO_STORE)
        oauth_request = _oauth_request(request, params)
        try:
            grant = await run_in_threadpool(server.get_consent_grant, oauth_request, principal)
        except OAuth2Error as error:
            return _error_response(oauth_request, error)
        bad_max_age = _max_age_invalid(grant, params)
        if bad_max_age is not None:
            return _error_response(oauth_request, bad_max_age)

        if principal is None or grant.prompt == "login" or _too_old(params, session):
            if params.get("prompt") == "none":
                return _error_response(oauth_request, _login_required(grant))
            return _to_login(params)

        scopes = (oauth_request.payload.scope or "").split()
        client = grant.client
        if consent == "deny":
            return _finish(oauth_request, principal=None)
        if consent == "allow":
            await run_in_threadpool(
                bus.execute_now,
                GrantConsent(
                    subject=principal.get_user_id(),
                    client_id=client.get_client_id(),
                    scopes=tuple(scopes),
                    context=command_context(request),
                ),
            )
            return _finish(oauth_request, principal)
        if (
            principal.user.has_consented(client.get_client_id(), scopes)
            and params.get("prompt") != "consent"
        ):
            return _finish(oauth_request, principal)
        if params.get("prompt") == "none":
            return _error_response(oauth_request, _consent_required(grant))
        response = HTMLResponse("", headers=_NO_STORE)
        csrf = sessions.csrf_token(request, response)
        response.body = consent_page(client.aggregate.name, scopes, params, csrf).encode()
        response.headers["content-length"] = str(len(response.body))
        return response

    def _finish(oauth_request: HublineRequest, principal: Principal | None) -> Response:
        # authlib answers access_denied when there is no user, a code otherwise.
        status, body, headers = server.create_authorization_response(
            oauth_request, grant_user=principal
        )
        return _as_response(status, body, headers)

    def _error_response(oauth_request: HublineRequest, error: OAuth2Error) -> Response:
        if error.redirect_uri:
            status, body, headers = server.handle_error_response(oauth_request, error)
            return _as_response(status, body, headers)
        # No trustworthy redirect URI: tell the person, never the (unverified) client.
        message = error.get_error_description() or error.error
        return HTMLResponse(error_page(message), 400, _NO_STORE)

    def _session_user(session: Session | None) -> User | None:
        if session is None:
            return None
        return natural_keys.user_by_subject(session.subject)

    def _oauth_request(request: Request, params: dict[str, str]) -> HublineRequest:
        return HublineRequest(
            method="GET",
            uri=tokens.issuer + _AUTHORIZE_PATH + "?" + urlencode(params),
            headers=request.headers,
            form={},
            args=params,
            context=command_context(request),
        )

    @router.get(
        _LOGIN,
        summary="Login page",
        response_class=HTMLResponse,
        responses=schemas.pages({200: "The login form", 400: "The return address is malformed"}),
        openapi_extra=schemas.query(schemas.LOGIN_QUERY),
    )
    async def login_get(request: Request) -> Response:
        try:
            return_url = _safe_return_url(request.query_params.get("ReturnUrl"))
        except MalformedReturnUrl:
            return _malformed_return_url()
        return _login_form(request, return_url)

    @router.post(
        _LOGIN,
        summary="Log in",
        response_class=HTMLResponse,
        responses=schemas.pages(
            {
                200: "The login form again (the form expired)",
                302: "Signed in: back to the return address",
                400: "The return address is malformed",
                401: "The login form again: wrong e-mail or password",
            },
            errors=(400, 413, 415),
        ),
        openapi_extra=schemas.form(schemas.LOGIN_FORM),
    )
    async def login_post(request: Request) -> Response:
        form = await read_form(request)
        try:
            return_url = _safe_return_url(form.get("ReturnUrl"))
        except MalformedReturnUrl:
            return _malformed_return_url()
        if not sessions.csrf_valid(request, form.get("csrf")):
            return _login_form(request, return_url, "The form expired; please sign in again.")
        email = form.get("email", "")[:254]
        principal = await run_in_threadpool(
            server.check_password,
            email,
            form.get("password", ""),
            command_context(request),
            _client_of(return_url),
        )
        if principal is None:
            return _login_form(request, return_url, "Wrong e-mail or password.", email, status=401)
        response = RedirectResponse(return_url, 302, _NO_STORE)
        sessions.start(response, principal.get_user_id())
        return response

    def _login_form(
        request: Request,
        return_url: str,
        error: str | None = None,
        email: str = "",
        status: int = 200,
    ) -> Response:
        response = HTMLResponse("", status, _NO_STORE)
        csrf = sessions.csrf_token(request, response)
        response.body = login_page(return_url, csrf, error, email).encode()
        response.headers["content-length"] = str(len(response.body))
        return response

    @router.get(
        "/connect/endsession",
        name="end_session_get",
        summary="End session (RP-Initiated Logout)",
        response_class=HTMLResponse,
        responses=schemas.pages(_END_SESSION_PAGES),
        openapi_extra=schemas.query(schemas.END_SESSION_FIELDS),
    )
    @router.post(
        "/connect/endsession",
        name="end_session_post",
        summary="End session (RP-Initiated Logout)",
        response_class=HTMLResponse,
        responses=schemas.pages(_END_SESSION_PAGES, errors=(400, 413, 415)),
        openapi_extra=schemas.form(schemas.END_SESSION_FIELDS),
    )
    async def end_session(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params |= await read_form(request)
        target = await run_in_threadpool(_post_logout_target, params)
        response: Response
        if target is None:
            response = HTMLResponse(signed_out_page(), 200, _NO_STORE)
        else:
            response = RedirectResponse(target, 302, _NO_STORE)
        sessions.end(response)
        return response

    def _post_logout_target(params: dict[str, str]) -> str | None:
        """Only back to a redirect URI registered by the client the id_token_hint names."""
        wanted, hint = params.get("post_logout_redirect_uri"), params.get("id_token_hint")
        if not wanted or not hint:
            return None
        try:
            claims = tokens.id_token_hint(hint)
        except InvalidAccessToken:
            return None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        for client_id in audiences:
            client = natural_keys.client(str(client_id))
            if client is not None and wanted in client.redirect_uris:
                state = params.get("state")
                return wanted + (
                    ("&" if "?" in wanted else "?") + urlencode({"state": state}) if state else ""
                )
        return None

    @router.get(
        _DEVICE_PATH,
        summary="Approve a device's sign-in (RFC 8628 §3.3)",
        response_class=HTMLResponse,
        responses=schemas.pages({200: "The approval form", 302: "Not signed in: to the login"}),
        openapi_extra=schemas.query(schemas.DEVICE_QUERY),
    )
    async def device_get(request: Request) -> Response:
        user_code = request.query_params.get("user_code", "")[:20]
        session = sessions.read(request)
        if session is None:
            return_url = f"{_DEVICE_PATH}?{urlencode({'user_code': user_code})}"
            return RedirectResponse(
                f"{_LOGIN}?{urlencode({'ReturnUrl': return_url})}", 302, _NO_STORE
            )
        response = HTMLResponse("", headers=_NO_STORE)
        csrf = sessions.csrf_token(request, response)
        response.body = device_page(user_code, csrf).encode()
        response.headers["content-length"] = str(len(response.body))
        return response

    @router.post(
        _DEVICE_PATH,
        summary="Approve or deny a device's sign-in",
        response_class=HTMLResponse,
        responses=schemas.pages(
            {200: "Approved or denied", 400: "The form expired, or the code is unknown"},
            errors=(400, 413, 415),
        ),
        openapi_extra=schemas.form(schemas.DEVICE_FORM),
    )
    async def device_post(request: Request) -> Response:
        form = await read_form(request)
        session = sessions.read(request)
        if session is None or not sessions.csrf_valid(request, form.get("csrf")):
            return HTMLResponse(error_page("The form expired; start again."), 400, _NO_STORE)
        try:
            await run_in_threadpool(
                bus.execute_now,
                DecideDeviceAuthorization(
                    user_code=form.get("user_code", "")[:20],
                    subject=session.subject,
                    approve=form.get("decision") == "allow",
                    auth_time=session.auth_time,
                    at=datetime.now(UTC),
                    context=command_context(request),
                ),
            )
        except DomainError as exc:
            return HTMLResponse(error_page(str(exc)), 400, _NO_STORE)
        return HTMLResponse(device_done_page(form.get("decision") == "allow"), 200, _NO_STORE)

    return router
