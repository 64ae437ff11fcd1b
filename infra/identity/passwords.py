"""Password hashing with Argon2id (argon2-cffi): the slow hash belongs to the infrastructure."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.identity.password_policy import HUBLINE_PASSWORDS, PasswordPolicy

_HASHER = PasswordHasher()  # RFC 9106 low-memory profile defaults

# Verified when the account does not exist, so that a miss costs what a hit costs.
_DUMMY_HASH = _HASHER.hash("hubline-timing-equaliser")

MIN_LENGTH = HUBLINE_PASSWORDS.min_length
MAX_LENGTH = HUBLINE_PASSWORDS.max_length


def hash_password(password: str, policy: PasswordPolicy = HUBLINE_PASSWORDS) -> str:
    """The hash of a newly chosen password; ValueError (saying why) if the policy refuses it."""
    problem = policy.problem(password)
    if problem is not None:
        raise ValueError(problem)
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
