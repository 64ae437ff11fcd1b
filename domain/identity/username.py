"""Usernames: OpenShock's rules for them, and the claim that keeps each one to one user.

A username is unique regardless of case (OpenShock compares names with a case-insensitive,
accent-sensitive collation). Uniqueness is an aggregate keyed by the folded name, as the
e-mail keys the user: two commands claiming one name both try to create or change that
aggregate, and the store's conditional append lets only one of them win, on any node.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.commands import UnitOfWork
from domain.errors import DomainError

Metadata = dict[str, Any]

MIN_USERNAME_LENGTH = 3
MAX_USERNAME_LENGTH = 32
# How long after one change a user must wait for the next (staff are exempt).
USERNAME_CHANGE_COOLDOWN = timedelta(days=7)


class UsernameInvalid(DomainError):
    code = "Account.Username.Invalid"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        # OpenShock's UsernameErrorType name: TooShort, TooLong, StartOrEndWithWhitespace,
        # ResembleEmail, ObnoxiousCharacters.
        self.reason = reason


class UsernameTaken(DomainError):
    code = "Account.Username.Taken"


class UsernameRecentlyChanged(DomainError):
    code = "Account.Username.RecentlyChanged"


class UsernameOrEmailExists(DomainError):
    """A signup whose e-mail or username is in use (OpenShock does not say which)."""

    code = "Signup.UsernameOrEmailExists"


# Code point ranges a name may not contain, as OpenShock refuses them: controls, spacing
# modifiers and combining marks (Zalgo), general punctuation (zero-width and direction
# marks), arrows, technical and dingbat blocks, variation selectors, emoji and everything
# from the playing cards block up.
_UNDESIRED: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),
    (0x007F, 0x00A0),
    (0x00AD, 0x00AD),
    (0x02B0, 0x036F),
    (0x1400, 0x17FF),
    (0x180B, 0x180F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x2000, 0x209F),
    (0x20D0, 0x21FF),
    (0x2300, 0x23FF),
    (0x2460, 0x24FF),
    (0x25A0, 0x27BF),
    (0x2900, 0x297F),
    (0x2B00, 0x2BFF),
    (0x3000, 0x3000),
    (0xFE00, 0xFE0F),
    (0x1F000, 0x1F02F),
    (0x1F0A0, 0x10FFFF),
)


def _undesired(char: str) -> bool:
    point = ord(char)
    if 0x20 <= point <= 0x7E:
        return False
    # A lone surrogate (from a broken UTF-16 pair) is refused as OpenShock refuses it.
    if 0xD800 <= point <= 0xDFFF:
        return True
    return any(low <= point <= high for low, high in _UNDESIRED)


def username_problem(username: str) -> UsernameInvalid | None:
    """Why OpenShock would refuse this name, or None. Lengths count UTF-16 units, as .NET does."""
    length = len(username.encode("utf-16-le")) // 2
    if length < MIN_USERNAME_LENGTH:
        return UsernameInvalid("Username is too short.", "TooShort")
    if length > MAX_USERNAME_LENGTH:
        return UsernameInvalid("Username is too long.", "TooLong")
    if username[0].isspace() or username[-1].isspace():
        return UsernameInvalid(
            "Username cannot start or end with whitespace.", "StartOrEndWithWhitespace"
        )
    if "@" in username:
        return UsernameInvalid("Username cannot resemble an email address.", "ResembleEmail")
    if any(_undesired(char) for char in username):
        return UsernameInvalid(
            "Username must not contain obnoxious characters.", "ObnoxiousCharacters"
        )
    return None


def checked_username(username: str) -> str:
    problem = username_problem(username)
    if problem is not None:
        raise problem
    return username


def folded_username(username: str) -> str:
    """The form two names are compared in: compatibility-normalised, then case-folded (an
    approximation of the ICU level-2 collation the real backend compares with)."""
    return unicodedata.normalize("NFKC", username).casefold()


def username_id(username: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:username:{folded_username(username)}")


class Username(Aggregate):
    """Who holds a name: created by the first claim, released when its holder renames."""

    Claimed: ClassVar[type[Aggregate.Event]]
    Reclaimed: ClassVar[type[Aggregate.Event]]
    Released: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(username: str, **_: Any) -> UUID:
        return username_id(username)

    @event("Claimed")
    def __init__(self, username: str, holder: str, meta: Metadata) -> None:
        self.username = username
        # The holder's subject (the user's aggregate id); None once released.
        self.holder: str | None = holder

    def is_free_for(self, subject: str) -> bool:
        return self.holder is None or self.holder == subject

    @event("Reclaimed")
    def reclaim(self, username: str, holder: str, meta: Metadata) -> None:
        self.username = username
        self.holder = holder

    @event("Released")
    def release(self, meta: Metadata) -> None:
        self.holder = None


def may_change_username(last_changed_at: datetime | None, at: datetime) -> bool:
    return last_changed_at is None or at - last_changed_at >= USERNAME_CHANGE_COOLDOWN


def claim_username(uow: UnitOfWork, username: str, subject: str, meta: Metadata) -> bool:
    """Claims the name for the user; False if another user holds it."""
    claim = uow.get(Username, username_id(username))
    if claim is None:
        uow.add(Username(username=username, holder=subject, meta=meta))
        return True
    if not claim.is_free_for(subject):
        return False
    if claim.holder is None or claim.username != username:
        claim.reclaim(username=username, holder=subject, meta=meta)
    return True
