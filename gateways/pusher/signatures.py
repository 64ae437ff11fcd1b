"""Authorisation strings: `<app key>:<hex HMAC-SHA256 with the app secret>`.

Private and presence subscriptions sign `socket_id:channel[:channel_data]`, sign-in signs
`socket_id::user::user_data`; the data is signed as the client sent it, byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def channel_message(socket_id: str, channel: str, channel_data: str | None = None) -> str:
    if channel_data is None:
        return f"{socket_id}:{channel}"
    return f"{socket_id}:{channel}:{channel_data}"


def signin_message(socket_id: str, user_data: str) -> str:
    return f"{socket_id}::user::{user_data}"


def is_authorised(auth: object, key: str, secret: str, message: str) -> bool:
    """Whether `auth` is the app's signature of `message`, compared in constant time."""
    if not isinstance(auth, str):
        return False
    given_key, _, signature = auth.partition(":")
    expected = sign(secret, message)
    # Both comparisons always run, so the time says nothing about which part was wrong.
    key_matches = hmac.compare_digest(given_key.encode(), key.encode())
    signature_matches = hmac.compare_digest(signature.encode(), expected.encode())
    return key_matches and signature_matches
