"""API tokens: minted here, stored as hashes, resolved to principals on each request."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.principals.api_token import ApiToken, api_token_id
from domain.principals.permissions import Principal, permissions_for_access_token
from infra.store.event_store import EventStore

log = logging.getLogger(__name__)

TOKEN_PREFIX = "hbl_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for


def mint_token() -> tuple[str, str]:
    """A new token and its hash; the token itself is shown once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The stored form of any secret we generate: API tokens, client secrets, refresh tokens.

    They carry 256 bits of randomness, so a fast hash is safe; a slow KDF would only
    make every request slower. (Passwords, chosen by people, use Argon2:
    infra/identity/passwords.py.)
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenAuthenticator:
    """Resolves a presented credential: an API token, or an access token of our own issuer."""

    # A token's use is recorded at most this often, so that using it costs no write per call.
    USE_RECORD_INTERVAL = 3600.0

    def __init__(
        self,
        store: EventStore,
        validate_access_token: Callable[[str], dict[str, Any]],
        user_roles: Callable[[str], list[str] | None],
        record_use: Callable[[UUID], None],
    ) -> None:
        self._store = store
        self._validate_access_token = validate_access_token
        self._user_roles = user_roles
        self._record_use = record_use
        self._recorded: dict[UUID, float] = {}

    def principal_for(self, token: str) -> Principal | None:
        if not token or len(token) > 4096:
            return None
        if token.count(".") == 2 and not token.startswith(TOKEN_PREFIX):
            return self._access_token_principal(token)
        return self._api_token_principal(token)

    def _access_token_principal(self, token: str) -> Principal | None:
        try:
            claims = self._validate_access_token(token)
        except Exception:
            return None
        roles = self._user_roles(str(claims["sub"]))
        if roles is None:
            return None  # a client's own token (client_credentials) acts for no user
        return Principal(
            id=str(claims["sub"]),
            kind="user",
            permissions=permissions_for_access_token(roles, str(claims.get("scope", "")).split()),
            credential_id=str(claims.get("jti")),
        )

    def _api_token_principal(self, token: str) -> Principal | None:
        if len(token) > 512:
            return None
        token_hash = hash_token(token)
        try:
            found: object = self._store.app.repository.get(api_token_id(token_hash))
        except AggregateNotFoundError:
            return None
        if not isinstance(found, ApiToken):
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
            self._record_use(token_id)
        except Exception:
            log.exception("could not record the use of token %s", token_id)
