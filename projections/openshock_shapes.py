"""What every OpenShock view answers with: users as others see them, share rights, times.

Users are not copied into the OpenShock views: their names are looked up in the users view
(projections/user_view.py) when a query answers, so a rename shows everywhere at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.openshock.values import ShareLimits, SharePermissions
from projections.user_view import users_by_subject
from projections.view_store import ViewTransaction

# The id and name the real API shows for a share-link guest (a sender without an account).
GUEST_ID = "00000000-0000-0000-0000-000000000000"
GUEST_NAME = "Guest"
# The real API's fallback picture, URL-encoded as .NET's HttpUtility.UrlEncode writes it.
_DEFAULT_IMAGE = "https%3a%2f%2fopenshock.app%2fstatic%2fimages%2fIcon512.png"

# The columns a share right is stored in, wherever one is (user shares, invites, links).
RIGHTS_COLUMNS = "vibrate, sound, shock, live, max_intensity, max_duration"
RIGHTS_COLUMN_DEFINITIONS = (
    "vibrate INTEGER NOT NULL, sound INTEGER NOT NULL, shock INTEGER NOT NULL,"
    " live INTEGER NOT NULL, max_intensity INTEGER, max_duration INTEGER"
)


@dataclass(frozen=True)
class UserRef:
    """A user as other users see them: id, name and picture (never the e-mail)."""

    id: str
    name: str
    image: str


def image_url(avatar: str) -> str:
    return f"https://www.gravatar.com/avatar/{avatar}?d={_DEFAULT_IMAGE}"


GUEST = UserRef(id=GUEST_ID, name=GUEST_NAME, image=image_url("0"))


def user_refs(tx: ViewTransaction, ids: Iterable[str]) -> dict[str, UserRef]:
    """Each id's UserRef; an id the users view does not hold gets an empty name."""
    wanted = set(ids)
    found = users_by_subject(tx, wanted)
    refs = {}
    for user_id in wanted:
        row = found.get(user_id)
        if row is None:
            refs[user_id] = UserRef(id=user_id, name="", image=image_url("0"))
        else:
            # Gravatar by the SHA-256 of the address, as the real API draws it.
            avatar = hashlib.sha256(row.email.encode()).hexdigest()
            refs[user_id] = UserRef(id=user_id, name=row.name, image=image_url(avatar))
    return refs


def rights_values(
    permissions: dict[str, Any], limits: dict[str, Any]
) -> tuple[int, int, int, int, int | None, int | None]:
    """A stored right (SharePermissions/ShareLimits.as_dict) as RIGHTS_COLUMNS' values."""
    return (
        1 if permissions["vibrate"] else 0,
        1 if permissions["sound"] else 0,
        1 if permissions["shock"] else 0,
        1 if permissions["live"] else 0,
        limits.get("intensity"),
        limits.get("duration"),
    )


def rights_of(values: Sequence[Any]) -> tuple[SharePermissions, ShareLimits]:
    """RIGHTS_COLUMNS as read back (six values, in their order)."""
    return (
        SharePermissions(
            vibrate=bool(values[0]),
            sound=bool(values[1]),
            shock=bool(values[2]),
            live=bool(values[3]),
        ),
        ShareLimits(
            intensity=None if values[4] is None else int(values[4]),
            duration=None if values[5] is None else int(values[5]),
        ),
    )


def utc_text(moment: datetime | str) -> str:
    """Fixed-width UTC text: it sorts and compares as time does on both databases."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def utc_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


def rows_in(tx: ViewTransaction, sql: str, values: Sequence[str]) -> list[tuple[Any, ...]]:
    """Runs `sql`, whose one parameter list is written `IN (?*)`, for `values` a few hundred
    at a time: every database bounds the parameters of a statement."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), 500):
        chunk = list(values[start : start + 500])
        rows.extend(tx.fetchall(sql.replace("IN (?*)", f"IN ({placeholders(len(chunk))})"), chunk))
    return rows
