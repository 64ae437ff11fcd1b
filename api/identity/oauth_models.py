"""What authlib sees of our aggregates: clients, users, presented credentials, requests."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

from domain.context import CommandContext
from domain.identity.authorization_code import AuthorizationCode
from domain.identity.device_authorization import DeviceAuthorization
from domain.identity.oauth_client import OAuthClient
from domain.identity.user import User
from infra.identity.credentials import client_secret_matches


class Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, aggregate: OAuthClient) -> None:
        self.aggregate = aggregate

    def get_client_id(self) -> str:
        return self.aggregate.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.aggregate.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.aggregate.scopes)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.aggregate.redirect_uris  # exact match, no prefixes

    def check_client_secret(self, client_secret: str) -> bool:
        return not self.aggregate.public and client_secret_matches(self.aggregate, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "authorization":
            # Front-channel flows (implicit, hybrid) authenticate no client; the redirect
            # URI and response type checks are what bind them to it.
            return True
        if self.aggregate.public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        parts = set(response_type.split())
        grants = self.aggregate.grant_types
        if "code" in parts and "authorization_code" not in grants:
            return False
        # id_token and token from the authorization endpoint: implicit, or hybrid with code.
        return not (parts & {"id_token", "token"}) or "implicit" in grants

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.aggregate.grant_types


class Principal:
    """The user a grant acts for, as authlib sees it."""

    def __init__(self, user: User, auth_time: int | None = None) -> None:
        self.user = user
        self.auth_time = auth_time if auth_time is not None else int(time.time())

    def get_user_id(self) -> str:
        return self.user.subject


@dataclass
class PresentedRefreshToken:
    grant_id: str
    presented_hash: str
    client_id: str
    subject: str
    scope: str

    def check_client(self, client: Client) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return False  # checked by the grant aggregate when it rotates

    def is_revoked(self) -> bool:
        return False


@dataclass
class Issued:
    """What was minted for one token response, recorded when authlib saves it."""

    grant_id: str
    grant_type: str
    access_token_id: str
    refresh_token_hash: str | None
    new_grant: bool
    extras: dict[str, Any] = field(default_factory=dict)


class HublineRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],  # case-insensitive: authlib asks for "Authorization"
        form: dict[str, str],
        args: dict[str, str],
        context: CommandContext,
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._form = form
        self._args = args
        self.payload = BasicOAuth2Payload({**args, **form})
        self.context = context
        self.issued: Issued | None = None

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return self._args


@dataclass
class IssuedCode:
    """An authorization code as authlib asks about it."""

    code: AuthorizationCode
    code_hash: str

    @property
    def code_challenge(self) -> str | None:
        return self.code.code_challenge

    @property
    def code_challenge_method(self) -> str | None:
        return self.code.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return self.code.scope

    def get_nonce(self) -> str | None:
        return self.code.nonce

    def get_auth_time(self) -> int:
        return self.code.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return ["pwd"]


def user_claims(user: User, scope: str) -> dict[str, Any]:
    scopes = scope.split()
    claims: dict[str, Any] = {"sub": user.subject}
    if "profile" in scopes:
        claims |= {"name": user.name, "preferred_username": user.email}
    if "email" in scopes:
        claims |= {"email": user.email, "email_verified": False}
    return claims


@dataclass
class DeviceCredential:
    request: DeviceAuthorization

    def get_client_id(self) -> str:
        return self.request.client_id

    def get_scope(self) -> str:
        return self.request.scope

    def get_user_code(self) -> str:
        return self.request.user_code

    def is_expired(self) -> bool:
        return self.request.is_expired(datetime.now(UTC))
