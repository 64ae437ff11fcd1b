"""An app's key and secret: minted here, the secret kept sealed with the master key."""

from __future__ import annotations

import secrets

from infra.identity.secret_box import SecretBox

# The purpose the sealed secrets are bound to: a sealed signing key can't pass for one.
_PURPOSE = "pusher-app-secret"


def mint_key() -> str:
    # Pusher's own keys and secrets are 20 hex digits; clients expect nothing else of them.
    return secrets.token_hex(10)


def mint_secret() -> str:
    return secrets.token_hex(10)


def mint_app_id() -> str:
    # Numeric (Pusher's libraries refuse anything else), never starting with 0.
    return str(secrets.randbelow(9_000_000) + 1_000_000)


def seal_secret(box: SecretBox, secret: str) -> str:
    return box.seal(secret.encode(), _PURPOSE)


def open_secret(box: SecretBox, sealed: str) -> str:
    return box.open(sealed, _PURPOSE).decode()
