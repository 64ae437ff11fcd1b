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
from infra.identity.credentials import TOKEN_PREFIX, hash_token
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

    def principal_for(self, token: str) -> Principal | None:
        if not token or len(token) > 4096:
            return None
        if token.count(".") == 2 and not token.startswith(TOKEN_PREFIX):
            return self._access_token_principal(token)
        return self._api_token_principal(token)

    def _access_token_principal(self, token: str) -> Principal | None:
        try:
            claims = self._access_tokens.validate(token)
        except Exception:
            return None
        user = self._natural_keys.user_by_subject(str(claims["sub"]))
        if user is None:
            return None  # a client's own token (client_credentials) acts for no user
        return Principal(
            id=str(claims["sub"]),
            kind="user",
            permissions=permissions_for_access_token(
                list(user.roles), str(claims.get("scope", "")).split()
            ),
            credential_id=str(claims.get("jti")),
        )

    def _api_token_principal(self, token: str) -> Principal | None:
        if len(token) > 512:
            return None
        token_hash = hash_token(token)
        found = self._aggregates.get(ApiToken, api_token_id(token_hash))
        if found is None:
            return None
        if not hmac.compare_digest(found.token_hash, token_hash):
            return None
        if not found.is_valid_at(datetime.now(UTC)):
            return None
        self._note_use(found.id)
        token_id = str(found.id)
        return Principal(
            id=found.owner or token_id,
            kind="user" if found.owner else "api_token",
            permissions=frozenset(found.permissions),
            credential_id=token_id,
        )

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
