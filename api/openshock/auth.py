"""Who calls the OpenShock API, as FastAPI dependencies; authenticated before any body is read.

Three credentials, as the real backend accepts them:
- an API token, in the first of the headers OpenShockToken, Open-Shock-Token, ShockLinkToken;
- a login session, in the cookie openShockSession or the header OpenShockSession;
- a hub token, in the header DeviceToken or Device-Token (the hub's own routes).

A route declares which it takes: `caller` (a session or an API token), `session_caller`
(a route the real backend marks session-only: 403 Authorization.UserSession.Only for a
token), `cookie_caller` (a controller authenticated by the session scheme alone, as
/1/tokens and /1/sessions: an API token is not even looked at, so 401), `token_caller`
(API token only: /1/tokens/self), `optional_caller` (anonymous allowed), `hub` (a hub's
id). Each authenticated user's requests are counted (120 a minute, sliding); a request
whose credential fails is counted against its address.

A route that takes a body reads it after the dependency ran (api/openshock/bodies.py):
FastAPI would parse a declared body before authenticating, and nobody unknown makes us parse.
`context(request)` is the CommandContext every command is sent with: the principal the
dependency authenticated, its credential, the client's address.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.openshock.errors import OpenShockProblem
from api.openshock.limits import RequestLimits
from domain.context import CommandContext
from domain.openshock.callers import caller_of
from domain.openshock.values import Caller
from domain.principals.permissions import Principal
from infra.identity.login_sessions import LoginSessionVerifier
from infra.identity.token_authenticator import TokenAuthenticator
from infra.openshock.hub_tokens import HubTokens
from infra.openshock.presented_credentials import (
    api_token_of,
    hub_token_of,
    presents_credential,
    session_token_of,
)
from infra.request_context import command_context

_MAX_PRESENTED = 4096


def _problem(type_: str, title: str, status: int = 401) -> OpenShockProblem:
    return OpenShockProblem(type_, title, status)


def _header_missing() -> OpenShockProblem:
    return _problem(
        "Authentication.HeaderMissingOrInvalid", "Missing or invalid authentication header."
    )


def _cookie_missing() -> OpenShockProblem:
    return _problem(
        "Authentication.CookieMissingOrInvalid", "Missing or invalid authentication cookie."
    )


def _token_invalid() -> OpenShockProblem:
    return _problem("Authentication.TokenInvalid", "The token is invalid")


def _session_invalid() -> OpenShockProblem:
    return _problem("Authentication.SessionInvalid", "The session is invalid")


def _session_only() -> OpenShockProblem:
    return _problem(
        "Authorization.UserSession.Only",
        "This endpoint is only available to use with a user sessions",
        403,
    )


def _token_only() -> OpenShockProblem:
    return _problem(
        "Authorization.Token.Only", "This endpoint is only available to use with api tokens", 403
    )


class OpenShockAuth:
    def __init__(
        self,
        tokens: TokenAuthenticator,
        sessions: LoginSessionVerifier,
        hubs: HubTokens,
        limits: RequestLimits,
    ) -> None:
        self._tokens = tokens
        self._sessions = sessions
        self._hubs = hubs
        self._limits = limits

    # --- the dependencies routes declare ---

    async def caller(self, request: Request) -> Caller:
        """A login session or an API token (UserSessionApiTokenCombo)."""
        if api_token_of(request) is not None:
            return await self._by_token(request)
        if session_token_of(request) is not None:
            return await self._by_session(request)
        # Counted against its address already (RequestLimits.edge).
        raise _header_missing()

    async def optional_caller(self, request: Request) -> Caller | None:
        """Anonymous allowed; a credential that is presented must be valid."""
        if not presents_credential(request):
            return None
        return await self.caller(request)

    async def session_caller(self, request: Request) -> Caller:
        """Session or token accepted by the scheme, but the route serves sessions only."""
        caller = await self.caller(request)
        if caller.token is not None:
            raise _session_only()
        return caller

    async def cookie_caller(self, request: Request) -> Caller:
        """The session scheme alone (the controller ignores API tokens): 401 without one."""
        if session_token_of(request) is None:
            if api_token_of(request) is not None:
                await self._limits.refused_credential(request)
            raise _cookie_missing()
        return await self._by_session(request)

    async def token_caller(self, request: Request) -> Caller:
        """The API token scheme alone (GET /1|2/tokens/self)."""
        if api_token_of(request) is None:
            if session_token_of(request) is not None:
                await self._limits.refused_credential(request)
            raise _header_missing()
        caller = await self._by_token(request)
        if caller.token is None:  # pragma: no cover - a token always yields a token caller
            raise _token_only()
        return caller

    async def hub(self, request: Request) -> UUID:
        """The hub whose token the request carries (DeviceToken / Device-Token)."""
        # A hub's requests are counted against its address (RequestLimits.edge).
        token = hub_token_of(request)
        if token is None or len(token) > _MAX_PRESENTED:
            raise _header_missing()
        hub_id = await run_in_threadpool(self._hubs.hub_for, token)
        if hub_id is None:
            raise _token_invalid()
        return hub_id

    # --- how each credential is checked ---

    async def _by_token(self, request: Request) -> Caller:
        token = api_token_of(request) or ""
        principal: Principal | None = None
        if len(token) <= _MAX_PRESENTED:
            # A token known valid is answered here; anything else may read the store.
            principal = self._tokens.known_principal(token) or await run_in_threadpool(
                self._tokens.principal_for, token
            )
        caller = caller_of(principal) if principal is not None else None
        if caller is None or caller.token is None or principal is None:
            await self._limits.refused_credential(request)
            raise _token_invalid()
        return await self._admitted(request, principal, caller)

    async def _by_session(self, request: Request) -> Caller:
        token = session_token_of(request) or ""
        authenticated = self._sessions.known(token) or await run_in_threadpool(
            self._sessions.authenticate, token
        )
        principal = authenticated.principal if authenticated is not None else None
        caller = caller_of(principal) if principal is not None else None
        if caller is None or caller.token is not None or principal is None:
            await self._limits.refused_credential(request)
            raise _session_invalid()
        return await self._admitted(request, principal, caller)

    async def _admitted(self, request: Request, principal: Principal, caller: Caller) -> Caller:
        await self._limits.user(str(caller.user_id))
        request.state.openshock_principal = principal
        request.state.openshock_caller = caller
        return caller


def principal_of(request: Request) -> Principal | None:
    """Who the request's auth dependency authenticated (None: nobody, an anonymous route)."""
    found = getattr(request.state, "openshock_principal", None)
    return found if isinstance(found, Principal) else None


def context(request: Request) -> CommandContext:
    """The context a command of this request carries: actor, credential, address."""
    return command_context(request, principal_of(request))
