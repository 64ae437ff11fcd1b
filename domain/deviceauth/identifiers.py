"""Device identifiers: case-insensitive, answered in upper case."""

from __future__ import annotations

import re

MAX_LENGTH = 128
_ALLOWED = re.compile(r"^[A-Za-z0-9_.:-]+$")


def normalise_device_identifier(raw: str) -> str:
    identifier = raw.strip()
    if not identifier:
        raise ValueError("the device identifier is empty")
    if len(identifier) > MAX_LENGTH:
        raise ValueError(f"the device identifier is longer than {MAX_LENGTH} characters")
    if not _ALLOWED.match(identifier):
        raise ValueError(
            "the device identifier may only hold letters, digits and the characters _ . : -"
        )
    return identifier.upper()
