"""Who opens an OpenShock websocket (live control, the SignalR hubs): an API token or a login
session, read as the REST API reads them (infra/openshock/presented_credentials.py).

The credential is kept with the caller, so that the socket ends when it is revoked or
expires (gateways/live_sessions.py), as every Hubline websocket does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from domain.openshock.callers import caller_of
from domain.openshock.values import Caller
from domain.principals.permissions import Principal
from infra.identity.login_sessions import LoginSessionVerifier
from infra.identity.session_credential import Authenticated, SessionCredential
from infra.identity.token_authenticator import TokenAuthenticator
from infra.openshock.presented_credentials import api_token_of, session_token_of


@dataclass(frozen=True)
class SocketCaller:
    principal: Principal
    caller: Caller
    credential: SessionCredential

    @property
    def authenticated(self) -> Authenticated:
        return Authenticated(self.principal, self.credential)


class OpenShockSocketAuth:
    def __init__(self, tokens: TokenAuthenticator, sessions: LoginSessionVerifier) -> None:
        self._tokens = tokens
        self._sessions = sessions

    def presents_session(self, connection: HTTPConnection) -> bool:
        return session_token_of(connection) is not None

    def presents_credential(self, connection: HTTPConnection) -> bool:
        return api_token_of(connection) is not None or self.presents_session(connection)

    async def user(self, connection: HTTPConnection) -> SocketCaller | None:
        """The caller of an API token (tried first, as the real backend does) or a login
        session; None when neither is presented or the one presented is not valid."""
        token = api_token_of(connection)
        if token is not None:
            authenticated = await asyncio.to_thread(self._tokens.authenticate, token)
            return _caller(authenticated, token_expected=True)
        session = session_token_of(connection)
        if session is not None:
            authenticated = self._sessions.known(session) or await asyncio.to_thread(
                self._sessions.authenticate, session
            )
            return _caller(authenticated, token_expected=False)
        return None


def _caller(authenticated: Authenticated | None, *, token_expected: bool) -> SocketCaller | None:
    if authenticated is None:
        return None
    caller = caller_of(authenticated.principal)
    # An OAuth access token in an API token header is no OpenShock credential.
    if caller is None or (caller.token is not None) != token_expected:
        return None
    return SocketCaller(authenticated.principal, caller, authenticated.credential)
