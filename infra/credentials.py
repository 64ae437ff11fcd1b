"""API tokens: minted here, stored as hashes, resolved to principals on each request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from eventsourcing.application import AggregateNotFoundError

from domain.principals.api_token import ApiToken, api_token_id
from domain.principals.permissions import Principal
from infra.event_store import EventStore

TOKEN_PREFIX = "hbl_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for


def mint_token() -> tuple[str, str]:
    """A new token and its hash; the token itself is shown once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The stored form of any secret we generate: API tokens, client secrets, refresh tokens.

    They carry 256 bits of randomness, so a fast hash is safe; a slow KDF would only
    make every request slower. (Passwords, chosen by people, use Argon2: infra/passwords.py.)
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenAuthenticator:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    def principal_for(self, token: str) -> Principal | None:
        if not token or len(token) > 512:
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
        token_id = str(found.id)
        return Principal(
            id=token_id,
            kind="api_token",
            permissions=frozenset(found.permissions),
            credential_id=token_id,
        )
