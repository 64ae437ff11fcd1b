"""Device identifiers: case-insensitive, answered in upper case."""

from __future__ import annotations

import re

MAX_LENGTH = 128
_ALLOWED = re.compile(r"[A-Za-z0-9_.:-]+")
_SHOWN = 40  # Enough of a rejected identifier to find it, without echoing a huge one.


def normalise_device_identifier(raw: str) -> str:
    """Strip and upper-case; ValueError with a reason people can act on otherwise."""
    identifier = raw.strip()
    if not identifier:
        raise ValueError("the device identifier is empty")
    if len(identifier) > MAX_LENGTH:
        raise ValueError(
            f"the device identifier is {len(identifier)} characters long; "
            f"at most {MAX_LENGTH} are allowed"
        )
    if not _ALLOWED.fullmatch(identifier):
        bad = next(c for c in identifier if not _ALLOWED.fullmatch(c))
        raise ValueError(
            f"the device identifier {_shown(identifier)!r} holds {bad!r}; "
            "only letters, digits and the characters _ . : - are allowed"
        )
    return identifier.upper()


def _shown(identifier: str) -> str:
    if len(identifier) <= _SHOWN:
        return identifier
    return identifier[:_SHOWN] + "…"
