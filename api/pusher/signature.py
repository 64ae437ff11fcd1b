"""Pusher's request signature (auth_version 1.0), checked exactly as Pusher defines it.

The string signed is the upper-case method, the path as requested and the query parameters
but auth_signature, keys lower-cased and sorted, values as decoded (not re-escaped), joined
by newlines; the signature is its HMAC-SHA256 with the app secret, in hex. body_md5 is the
MD5 of the raw body: required when there is a body, and accepted on an empty one when it is
the empty body's (Pusher's Python library sends it on every GET).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

# How far the caller's clock may be from ours, as Pusher allows.
TIMESTAMP_WINDOW_SECONDS = 600
_REQUIRED = ("auth_key", "auth_timestamp", "auth_version", "auth_signature")


class SignatureRefused(Exception):
    """The request is not signed by the app's secret, or not in a way we accept."""


def string_to_sign(method: str, path: str, params: Sequence[tuple[str, str]]) -> str:
    signed = sorted(
        ((key.lower(), value) for key, value in params if key.lower() != "auth_signature"),
        key=lambda pair: pair[0],
    )
    query = "&".join(f"{key}={value}" for key, value in signed)
    return f"{method.upper()}\n{path}\n{query}"


def check_query(
    secret: str, method: str, path: str, params: Sequence[tuple[str, str]], now: float
) -> str | None:
    """Checks everything the query says; answers the body_md5 the body must have (or None).

    The body is neither read nor parsed before this passed: only a caller who holds the
    secret makes the server read a body.
    """
    given: dict[str, str] = {}
    for key, value in params:
        lowered = key.lower()
        if lowered in given and lowered in (*_REQUIRED, "body_md5"):
            raise SignatureRefused(f"{lowered} is given more than once")
        given[lowered] = value
    missing = [name for name in _REQUIRED if name not in given]
    if missing:
        raise SignatureRefused(f"missing {', '.join(missing)}")
    if given["auth_version"] != "1.0":
        raise SignatureRefused("auth_version must be 1.0")
    timestamp = given["auth_timestamp"]
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureRefused("auth_timestamp must be a Unix time in seconds")
    if abs(now - int(timestamp)) > TIMESTAMP_WINDOW_SECONDS:
        raise SignatureRefused(
            f"auth_timestamp is more than {TIMESTAMP_WINDOW_SECONDS} seconds from the"
            " server's time; check the clock"
        )
    text = string_to_sign(method, path, params)
    expected = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given["auth_signature"].encode()):
        # As Pusher answers: what was to be signed helps the caller find its mistake.
        raise SignatureRefused(
            f"Invalid signature: you should have sent HmacSHA256Hex({text!r}, your_secret)"
        )
    return given.get("body_md5")


def check_body(body: bytes, body_md5: str | None) -> None:
    """The body must be the one whose MD5 was signed."""
    if not body and body_md5 is None:
        return
    if body_md5 is None:
        raise SignatureRefused("body_md5 is required when the request has a body")
    actual = hashlib.md5(body, usedforsecurity=False).hexdigest()
    if not hmac.compare_digest(actual.encode(), body_md5.lower().encode()):
        raise SignatureRefused("body_md5 does not match the body")
