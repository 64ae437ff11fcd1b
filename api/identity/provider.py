"""The identity provider as its routes use it: issue, validate, revoke and introspect tokens."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError

from api.identity.authorization_server import HublineAuthorizationServer
from api.identity.oauth_models import HublineRequest
from api.identity.session import Sessions
from domain.identity.commands import RevokeTokenGrant
from domain.identity.token_grant import TokenGrant
from infra.command_bus import CommandBus
from infra.identity.access_tokens import AccessTokens, InvalidAccessToken
from infra.identity.credentials import hash_token
from infra.identity.directory import Directory
from infra.identity.grant_status import GrantStatus
from infra.identity.signing_keys import SigningKeys
from infra.limits.failure_limiter import FailureLimiter

_CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


class IdentityProvider:
    def __init__(
        self,
        keys: SigningKeys,
        tokens: AccessTokens,
        directory: Directory,
        bus: CommandBus,
        refresh_lifetime: int,
        sessions: Sessions,
        login_failures: FailureLimiter,
    ) -> None:
        self.sessions = sessions
        self.keys = keys
        self.tokens = tokens
        self.directory = directory
        self.grants = GrantStatus(self._grant_revoked_in_store)
        self.bus = bus
        self.server = HublineAuthorizationServer(
            directory, tokens, bus, refresh_lifetime, login_failures
        )

    def _grant_revoked_in_store(self, grant_id: str) -> bool:
        grant = self.directory.grant(grant_id)
        return grant is not None and grant.revoked

    def validate_access_token(self, token: str) -> dict[str, Any]:
        claims = self.tokens.validate(token)
        grant_id = claims.get("sid")
        if isinstance(grant_id, str) and self.grants.is_revoked(grant_id):
            raise InvalidAccessToken("the token's grant was revoked")
        return claims

    def revoke(self, request: HublineRequest) -> None:
        client = self.server.authenticate_client(request, _CLIENT_AUTH, endpoint="revocation")
        token = request.form.get("token")
        if not token:
            raise InvalidRequestError("Missing 'token' in request.")
        grant = self._grant_of(token)
        # RFC 7009 §2.2: an invalid or foreign token is not an error; nothing happens.
        if grant is not None and grant.client_id == client.get_client_id() and not grant.revoked:
            self.bus.execute_now(
                RevokeTokenGrant(
                    grant_id=grant.id, reason="revoked by client", context=request.context
                )
            )

    def introspect(self, request: HublineRequest) -> dict[str, Any]:
        self.server.authenticate_client(request, _CLIENT_AUTH, endpoint="introspection")
        token = request.form.get("token")
        if not token:
            raise InvalidRequestError("Missing 'token' in request.")
        if token.count(".") == 2:
            try:
                claims = self.validate_access_token(token)
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
                claims = self.tokens.validate(token)
            except InvalidAccessToken:
                return None
            grant_id = claims.get("sid")
            return self.directory.grant(grant_id) if isinstance(grant_id, str) else None
        grant_id, _, _ = token.partition(".")
        try:
            uuid.UUID(grant_id)
        except ValueError:
            return None
        return self.directory.grant(grant_id)
