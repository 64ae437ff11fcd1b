"""Who presents a credential: an API token or an access token, resolved to a principal."""

from __future__ import annotations

import hmac
import logging
import time
from datetime import UTC, datetime
from uuid import UUID

from domain.context import CommandContext
from domain.principals.api_token import ApiToken, api_token_id
from domain.principals.commands import RecordApiTokenUse
from domain.principals.permissions import Principal, permissions_for_access_token
from infra.command_bus import CommandBus
from infra.identity.access_token_validator import AccessTokenValidator
from infra.identity.api_token_principals import ApiTokenPrincipals, KnownToken
from infra.identity.credentials import TOKEN_PREFIX, hash_token
from infra.identity.session_credential import (
    Authenticated,
    RevocableCredential,
    SessionCredential,
)
from infra.store.aggregates import AggregateLoader
from infra.store.natural_keys import NaturalKeys

log = logging.getLogger(__name__)

_SYSTEM = CommandContext(actor_id="hubline", actor_kind="system")


class TokenAuthenticator:
    """Resolves a presented credential: an API token, or an access token of our own issuer."""

    # A token's use is recorded at most this often, so that using it costs no write per call.
    USE_RECORD_INTERVAL = 3600.0

    def __init__(
        self,
        aggregates: AggregateLoader,
        natural_keys: NaturalKeys,
        access_tokens: AccessTokenValidator,
        bus: CommandBus,
    ) -> None:
        self._aggregates = aggregates
        self._natural_keys = natural_keys
        self._access_tokens = access_tokens
        self._bus = bus
        self._recorded: dict[UUID, float] = {}
        self.api_tokens = ApiTokenPrincipals()

    def principal_for(self, token: str) -> Principal | None:
        authenticated = self.authenticate(token)
        return authenticated.principal if authenticated is not None else None

    def known_principal(self, token: str) -> Principal | None:
        """The principal of an API token known valid, answered without blocking (on the
        event loop); None when only `principal_for` can tell (in a worker thread)."""
        if not token or len(token) > 512:
            return None
        if token.count(".") == 2 and not token.startswith(TOKEN_PREFIX):
            return None  # an access token: its grant's state is checked in `authenticate`
        known = self.api_tokens.known(hash_token(token))
        if known is None or self._use_due(known.token_id):
            return None
        return known.authenticated.principal

    def authenticate(self, token: str) -> Authenticated | None:
        """The principal, and the credential a session opened with it depends on."""
        if not token or len(token) > 4096:
            return None
        if token.count(".") == 2 and not token.startswith(TOKEN_PREFIX):
            return self._by_access_token(token)
        return self._by_api_token(token)

    def is_active(self, credential: RevocableCredential) -> bool:
        """Whether a credential a session was opened with is still neither revoked nor expired."""
        if credential.kind == "grant":
            return not self._access_tokens.grants.is_revoked(credential.id)
        try:
            token_id = UUID(credential.id)
        except ValueError:
            return False
        found = self._aggregates.get(ApiToken, token_id)
        return found is not None and found.is_valid_at(datetime.now(UTC))

    def _by_access_token(self, token: str) -> Authenticated | None:
        try:
            claims = self._access_tokens.validate(token)
        except Exception:
            return None
        user = self._natural_keys.user_by_subject(str(claims["sub"]))
        if user is None:
            return None  # a client's own token (client_credentials) acts for no user
        principal = Principal(
            id=str(claims["sub"]),
            kind="user",
            permissions=permissions_for_access_token(
                list(user.roles), str(claims.get("scope", "")).split()
            ),
            credential_id=str(claims.get("jti")),
            credential_kind="access_token",
        )
        return Authenticated(principal, self._access_tokens.credential_of(claims))

    def _by_api_token(self, token: str) -> Authenticated | None:
        if len(token) > 512:
            return None
        token_hash = hash_token(token)
        known = self.api_tokens.known(token_hash)
        if known is None:
            known = self._read_api_token(token_hash)
        if known is None:
            return None
        self._note_use(known.token_id)
        return known.authenticated

    def _read_api_token(self, token_hash: str) -> KnownToken | None:
        token_id = api_token_id(token_hash)
        read = self.api_tokens.reading(str(token_id))
        known: KnownToken | None = None
        try:
            found = self._aggregates.get(ApiToken, token_id)
            if (
                found is None
                or not hmac.compare_digest(found.token_hash, token_hash)
                or not found.is_valid_at(datetime.now(UTC))
            ):
                return None
            expires_at = found.expires_at.timestamp() if found.expires_at is not None else None
            principal = Principal(
                id=found.owner or str(token_id),
                kind="user" if found.owner else "api_token",
                permissions=frozenset(found.permissions),
                credential_id=str(token_id),
                credential_kind="api_token",
                shocker_control=found.control,
            )
            credential = SessionCredential(
                revocable=RevocableCredential("api_token", str(token_id)), expires_at=expires_at
            )
            known = KnownToken(
                token_id, Authenticated(principal, credential), expires_at, read.started_at
            )
            return known
        finally:
            self.api_tokens.done_reading(str(token_id), token_hash, known, read)

    def _use_due(self, token_id: UUID) -> bool:
        last = self._recorded.get(token_id)
        return last is None or time.monotonic() - last >= self.USE_RECORD_INTERVAL

    def _note_use(self, token_id: UUID) -> None:
        now = time.monotonic()
        last = self._recorded.get(token_id)
        if last is not None and now - last < self.USE_RECORD_INTERVAL:
            return
        self._recorded[token_id] = now
        try:
            self._bus.execute_now(
                RecordApiTokenUse(token_id=token_id, at=datetime.now(UTC), context=_SYSTEM)
            )
        except Exception:
            log.exception("could not record the use of token %s", token_id)
