"""OpenShock user shares: who may control whose shocker, with which rights.

Answers /1/shockers/shared (a user's shares grouped by owner and hub), /1/shockers/{id}/shares
(an owner's shocker, who it is shared with) and /2/shares/user (outgoing and incoming). A row
is one share as the Shocker aggregate holds it; names, hubs and the owner's pause are read
from the hubs view when a query answers, users from the users view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.openshock.shocker import Shocker
from domain.openshock.values import PauseReason, ShareLimits, SharePermissions
from projections.openshock_hub_view import HUBS_TABLE, SHOCKERS_TABLE
from projections.openshock_shapes import (
    RIGHTS_COLUMN_DEFINITIONS,
    RIGHTS_COLUMNS,
    UserRef,
    rights_of,
    rights_values,
    user_refs,
    utc_text,
    utc_time,
)
from projections.records import LogRecord
from projections.view_store import ViewTransaction, apply_by_aggregate

_TABLE = "view_openshock_user_shares"

_SHARED = Shocker.Shared.__qualname__
_CHANGED = Shocker.ShareChanged.__qualname__
_PAUSE_SET = Shocker.SharePauseSet.__qualname__
_REMOVED = Shocker.ShareRemoved.__qualname__
_SHOCKER_DELETED = Shocker.Deleted.__qualname__
_TYPES = frozenset({_SHARED, _CHANGED, _PAUSE_SET, _REMOVED, _SHOCKER_DELETED})

# A share's row joined with its shocker and hub, as every query here reads it.
_SELECT = (
    f"SELECT s.user_id, k.owner_id, k.shocker_id, k.name, k.hub_id, h.name, k.paused,"
    f" s.paused, s.created_at, {', '.join('s.' + c for c in RIGHTS_COLUMNS.split(', '))}"
    f" FROM {_TABLE} s JOIN {SHOCKERS_TABLE} k ON k.shocker_id = s.shocker_id"
    f" JOIN {HUBS_TABLE} h ON h.hub_id = k.hub_id"
)


@dataclass(frozen=True)
class SharedShocker:
    """One share of one shocker, from either side."""

    id: str  # the shocker's
    name: str
    hub_id: str
    hub_name: str
    owner_id: str
    user_id: str  # the user it is shared with
    permissions: SharePermissions
    limits: ShareLimits
    share_paused: bool
    shocker_paused: bool
    created_on: datetime

    @property
    def is_paused(self) -> bool:
        """/1/shockers/shared's isPaused: the owner's pause or the share's."""
        return self.share_paused or self.shocker_paused

    @property
    def pause_reason(self) -> int:
        """/2/shares/user's paused: PauseReason flags."""
        return (PauseReason.SHOCKER if self.shocker_paused else 0) | (
            PauseReason.SHARE if self.share_paused else 0
        )


@dataclass(frozen=True)
class SharedHub:
    id: str
    name: str
    shockers: list[SharedShocker]


@dataclass(frozen=True)
class SharedByOwner:
    """/1/shockers/shared: one owner's shockers shared with the caller, by hub."""

    owner: UserRef
    hubs: list[SharedHub]


@dataclass(frozen=True)
class ShareGroup:
    """/2/shares/user: the other user (the one shared with, or the owner) and the shares."""

    user: UserRef
    shares: list[SharedShocker]


@dataclass(frozen=True)
class ShockerShare:
    """/1/shockers/{id}/shares: one user a shocker is shared with."""

    shared_with: UserRef
    share: SharedShocker


class OpenShockShareView:
    name = "openshock_user_shares"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " shocker_id TEXT NOT NULL, user_id TEXT NOT NULL,"
            f" {RIGHTS_COLUMN_DEFINITIONS}, paused INTEGER NOT NULL, created_at TEXT NOT NULL,"
            " PRIMARY KEY (shocker_id, user_id))",
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_user ON {_TABLE} (user_id)",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}"]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        # Every row is one Shocker aggregate's: statements of different shockers commute.
        apply_by_aggregate(self.apply, [r for r in records if r.type in _TYPES], tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        kind, payload, shocker_id = record.type, record.payload, record.aggregate_id
        if kind == _SHARED:
            # Sharing again replaces the rights and keeps when the share began.
            tx.execute(
                f"INSERT INTO {_TABLE} (shocker_id, user_id, {RIGHTS_COLUMNS}, paused,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (shocker_id, user_id) DO UPDATE SET vibrate = excluded.vibrate,"
                " sound = excluded.sound, shock = excluded.shock, live = excluded.live,"
                " max_intensity = excluded.max_intensity, max_duration = excluded.max_duration,"
                " paused = excluded.paused",
                (
                    shocker_id,
                    payload["user_id"],
                    *rights_values(payload["permissions"], payload["limits"]),
                    1 if payload["paused"] else 0,
                    utc_text(payload["at"]),
                ),
            )
        elif kind == _CHANGED:
            tx.execute(
                f"UPDATE {_TABLE} SET vibrate = ?, sound = ?, shock = ?, live = ?,"
                " max_intensity = ?, max_duration = ? WHERE shocker_id = ? AND user_id = ?",
                (
                    *rights_values(payload["permissions"], payload["limits"]),
                    shocker_id,
                    payload["user_id"],
                ),
            )
        elif kind == _PAUSE_SET:
            tx.execute(
                f"UPDATE {_TABLE} SET paused = ? WHERE shocker_id = ? AND user_id = ?",
                (1 if payload["paused"] else 0, shocker_id, payload["user_id"]),
            )
        elif kind == _REMOVED:
            tx.execute(
                f"DELETE FROM {_TABLE} WHERE shocker_id = ? AND user_id = ?",
                (shocker_id, payload["user_id"]),
            )
        elif kind == _SHOCKER_DELETED:
            tx.execute(f"DELETE FROM {_TABLE} WHERE shocker_id = ?", (shocker_id,))


def shared_with(tx: ViewTransaction, user_id: str) -> list[SharedByOwner]:
    """GET /1/shockers/shared: the shockers others share with `user_id`, by owner and hub."""
    shares = _select(tx, "s.user_id = ?", (user_id,))
    owners = user_refs(tx, {s.owner_id for s in shares})
    grouped: dict[str, dict[str, list[SharedShocker]]] = {}
    for share in shares:
        grouped.setdefault(share.owner_id, {}).setdefault(share.hub_id, []).append(share)
    return [
        SharedByOwner(
            owner=owners[owner_id],
            hubs=[SharedHub(hub_id, found[0].hub_name, found) for hub_id, found in hubs.items()],
        )
        for owner_id, hubs in grouped.items()
    ]


def outgoing_shares(tx: ViewTransaction, owner_id: str) -> list[ShareGroup]:
    """GET /2/shares/user `outgoing`: the owner's shares, by the user shared with."""
    shares = _select(tx, "k.owner_id = ?", (owner_id,))
    return _grouped(tx, shares, lambda share: share.user_id)


def incoming_shares(tx: ViewTransaction, user_id: str) -> list[ShareGroup]:
    """GET /2/shares/user `incoming`: shares with `user_id`, by owner."""
    shares = _select(tx, "s.user_id = ?", (user_id,))
    return _grouped(tx, shares, lambda share: share.owner_id)


def shares_of_shocker(tx: ViewTransaction, shocker_id: str) -> list[ShockerShare]:
    """GET /1/shockers/{id}/shares (the route checks the caller owns the shocker)."""
    shares = _select(tx, "s.shocker_id = ?", (shocker_id,))
    users = user_refs(tx, {s.user_id for s in shares})
    return [ShockerShare(users[s.user_id], s) for s in shares]


def _grouped(
    tx: ViewTransaction, shares: list[SharedShocker], key: Callable[[SharedShocker], str]
) -> list[ShareGroup]:
    groups: dict[str, list[SharedShocker]] = {}
    for share in shares:
        groups.setdefault(key(share), []).append(share)
    users = user_refs(tx, groups)
    return [ShareGroup(users[other], found) for other, found in groups.items()]


def _select(tx: ViewTransaction, where: str, params: tuple[Any, ...]) -> list[SharedShocker]:
    rows = tx.fetchall(
        f"{_SELECT} WHERE {where} ORDER BY k.owner_id, h.created_at, h.hub_id, k.created_at,"
        " k.shocker_id, s.created_at, s.user_id",
        params,
    )
    return [_share(r) for r in rows]


def _share(r: tuple[Any, ...]) -> SharedShocker:
    permissions, limits = rights_of(r[9:15])
    return SharedShocker(
        id=str(r[2]),
        name=str(r[3]),
        hub_id=str(r[4]),
        hub_name=str(r[5]),
        owner_id=str(r[1]),
        user_id=str(r[0]),
        permissions=permissions,
        limits=limits,
        share_paused=bool(r[7]),
        shocker_paused=bool(r[6]),
        created_on=utc_time(r[8]),
    )
