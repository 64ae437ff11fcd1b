"""Where an OpenShock client puts its credential, as the real backend reads it: an API token
in the first of OpenShockToken, Open-Shock-Token, ShockLinkToken; a login session in the
cookie openShockSession or the header OpenShockSession; a hub token in DeviceToken or
Device-Token. Shared by the REST routes and the websockets (both are HTTP connections)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from infra.identity.login_sessions import SESSION_COOKIE, SESSION_HEADER

API_TOKEN_HEADERS = ("openshocktoken", "open-shock-token", "shocklinktoken")
HUB_TOKEN_HEADERS = ("devicetoken", "device-token")
_SESSION_HEADER = SESSION_HEADER.lower()


def api_token_of(connection: HTTPConnection) -> str | None:
    for name in API_TOKEN_HEADERS:
        value = connection.headers.get(name)
        if value:
            return value
    return None


def session_token_of(connection: HTTPConnection) -> str | None:
    return connection.cookies.get(SESSION_COOKIE) or connection.headers.get(_SESSION_HEADER) or None


def hub_token_of(connection: HTTPConnection) -> str | None:
    for name in HUB_TOKEN_HEADERS:
        value = connection.headers.get(name)
        if value:
            return value
    return None


def presents_credential(connection: HTTPConnection) -> bool:
    """Whether the request carries a user's credential (then it is counted per user)."""
    return api_token_of(connection) is not None or session_token_of(connection) is not None
