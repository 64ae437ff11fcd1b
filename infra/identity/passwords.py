"""Password hashing with Argon2id (argon2-cffi): the slow hash belongs to the infrastructure."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()  # RFC 9106 low-memory profile defaults

# Verified when the account does not exist, so that a miss costs what a hit costs.
_DUMMY_HASH = _HASHER.hash("hubline-timing-equaliser")

MIN_LENGTH = 8
MAX_LENGTH = 1024


def hash_password(password: str) -> str:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValueError(f"a password needs {MIN_LENGTH} to {MAX_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
