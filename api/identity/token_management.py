"""Revoking and introspecting tokens: the client-authenticated token management endpoints."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError

from api.identity.authorization_server import HublineAuthorizationServer
from api.identity.oauth_models import HublineRequest
from domain.identity.commands import RevokeTokenGrant
from domain.identity.token_grant import TokenGrant
from infra.command_bus import CommandBus
from infra.identity.access_token_validator import AccessTokenValidator
from infra.identity.access_tokens import AccessTokens, InvalidAccessToken
from infra.identity.credentials import hash_token
from infra.store.natural_keys import NaturalKeys

_CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


class TokenManagement:
    """Revocation (RFC 7009) and introspection (RFC 7662), for authenticated clients."""

    def __init__(
        self,
        server: HublineAuthorizationServer,
        tokens: AccessTokens,
        validator: AccessTokenValidator,
        natural_keys: NaturalKeys,
        bus: CommandBus,
    ) -> None:
        self._server = server
        self._tokens = tokens
        self._validator = validator
        self._natural_keys = natural_keys
        self._bus = bus

    def revoke(self, request: HublineRequest) -> None:
        client = self._server.authenticate_client(request, _CLIENT_AUTH, endpoint="revocation")
        token = request.form.get("token")
        if not token:
            raise InvalidRequestError("Missing 'token' in request.")
        grant = self._grant_of(token)
        # RFC 7009 §2.2: an invalid or foreign token is not an error; nothing happens.
        if grant is not None and grant.client_id == client.get_client_id() and not grant.revoked:
            self._bus.execute_now(
                RevokeTokenGrant(
                    grant_id=grant.id, reason="revoked by client", context=request.context
                )
            )

    def introspect(self, request: HublineRequest) -> dict[str, Any]:
        self._server.authenticate_client(request, _CLIENT_AUTH, endpoint="introspection")
        token = request.form.get("token")
        if not token:
            raise InvalidRequestError("Missing 'token' in request.")
        if token.count(".") == 2:
            try:
                claims = self._validator.validate(token)
            except InvalidAccessToken:
                return {"active": False}
            return {"active": True, "token_type": "Bearer", **claims}
        grant = self._grant_of(token)
        if grant is None or grant.refresh_expires_at is None or grant.revoked:
            return {"active": False}
        if not hmac.compare_digest(grant.refresh_token_hash or "", hash_token(token)):
            return {"active": False}
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": grant.client_id,
            "sub": grant.subject,
            "scope": grant.scope,
            "exp": int(grant.refresh_expires_at.timestamp()),
        }

    def _grant_of(self, token: str) -> TokenGrant | None:
        if token.count(".") == 2:
            try:
                claims = self._tokens.validate(token)
            except InvalidAccessToken:
                return None
            grant_id = claims.get("sid")
            return self._natural_keys.grant(grant_id) if isinstance(grant_id, str) else None
        grant_id, _, _ = token.partition(".")
        try:
            uuid.UUID(grant_id)
        except ValueError:
            return None
        return self._natural_keys.grant(grant_id)
