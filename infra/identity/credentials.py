"""Secrets we generate (API tokens, client secrets): minted, hashed, compared; bearer headers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from domain.identity.oauth_client import OAuthClient

TOKEN_PREFIX = "hbl_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for


def mint_token() -> tuple[str, str]:
    """A new token and its hash; the token itself is shown once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


CLIENT_SECRET_BYTES = 32


def mint_client_secret() -> tuple[str, str]:
    """A new client secret and its hash; the secret is shown once."""
    secret = secrets.token_urlsafe(CLIENT_SECRET_BYTES)
    return secret, hash_token(secret)


def client_secret_matches(client: OAuthClient, presented: str) -> bool:
    presented_hash = hash_token(presented)
    matched = False
    for valid in client.secret_hashes_valid_at(datetime.now(UTC)):
        # Compare against every valid secret, so timing does not tell which one matched.
        matched |= hmac.compare_digest(valid, presented_hash)
    return matched


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def hash_token(token: str) -> str:
    """The stored form of any secret we generate: API tokens, client secrets, refresh tokens.

    They carry 256 bits of randomness, so a fast hash is safe; a slow KDF would only
    make every request slower. (Passwords, chosen by people, use Argon2:
    infra/identity/passwords.py.)
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
