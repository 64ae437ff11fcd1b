"""Checks an access token of our own issuer: signature and claims, then its grant's status."""

from __future__ import annotations

from typing import Any

from infra.identity.access_tokens import AccessTokens, InvalidAccessToken
from infra.identity.grant_status import GrantStatus
from infra.identity.session_credential import RevocableCredential, SessionCredential
from infra.store.natural_keys import NaturalKeys


class AccessTokenValidator:
    """What every resource (REST, hubs, gateways) asks before it trusts a bearer token."""

    def __init__(self, tokens: AccessTokens, natural_keys: NaturalKeys) -> None:
        self._tokens = tokens
        self._natural_keys = natural_keys
        self.grants = GrantStatus(self._grant_revoked_in_store)

    def validate(self, token: str) -> dict[str, Any]:
        """The token's claims; InvalidAccessToken when it is forged, expired or revoked."""
        claims = self._tokens.validate(token)
        grant_id = claims.get("sid")
        if isinstance(grant_id, str) and self.grants.is_revoked(grant_id):
            raise InvalidAccessToken("the token's grant was revoked")
        return claims

    def known_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token verified before whose grant is known not revoked, answered
        without blocking (on the event loop); None when only `validate` can tell, in a
        worker thread, since it may verify a signature or read the store."""
        claims = self._tokens.known(token)
        if claims is None:
            return None
        grant_id = claims.get("sid")
        if isinstance(grant_id, str) and self.grants.known(grant_id) is not False:
            return None
        return claims

    @staticmethod
    def credential_of(claims: dict[str, Any]) -> SessionCredential:
        """What a session opened with these (validated) claims lasts on: its grant, until exp."""
        grant_id = claims.get("sid")
        exp = claims.get("exp")
        return SessionCredential(
            revocable=RevocableCredential("grant", grant_id) if isinstance(grant_id, str) else None,
            expires_at=float(exp) if isinstance(exp, int | float) else None,
        )

    def _grant_revoked_in_store(self, grant_id: str) -> bool:
        grant = self._natural_keys.grant(grant_id)
        return grant is not None and grant.revoked
