"""OpenShock share links (public shares): an owner's list, and one link with its shockers
as the anonymous GET /1/public/shares/links/{id} shows it.

An expired link is as good as missing (ShareLink.is_live): the queries take `now` and leave
expired links out, so every route treats them alike. A deleted shocker leaves every link it
was in, as the real API's foreign keys cascade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.openshock.sharing import ShareLink
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
from projections.view_store import ViewTransaction

_LINKS = "view_openshock_share_links"
_LINK_SHOCKERS = "view_openshock_share_link_shockers"
_LINK_COLUMNS = "link_id, owner_id, name, created_at, expires_at"

_CREATED = ShareLink.Created.__qualname__
_DELETED = ShareLink.Deleted.__qualname__
_ADDED = ShareLink.ShockerAdded.__qualname__
_EDITED = ShareLink.ShockerEdited.__qualname__
_PAUSE_SET = ShareLink.ShockerPauseSet.__qualname__
_REMOVED = ShareLink.ShockerRemoved.__qualname__
_SHOCKER_DELETED = Shocker.Deleted.__qualname__
_TYPES = frozenset({_CREATED, _DELETED, _ADDED, _EDITED, _PAUSE_SET, _REMOVED, _SHOCKER_DELETED})
_NO_LIMITS = ShareLimits().as_dict()


@dataclass(frozen=True)
class ShareLinkRow:
    id: str
    owner_id: str
    name: str
    created_on: datetime
    expires_on: datetime | None


@dataclass(frozen=True)
class LinkShocker:
    id: str
    name: str
    permissions: SharePermissions
    limits: ShareLimits
    cooldown: int | None
    link_paused: bool
    shocker_paused: bool

    @property
    def pause_reason(self) -> int:
        """The link's `paused`: PauseReason flags."""
        return (PauseReason.SHOCKER if self.shocker_paused else 0) | (
            PauseReason.SHARE_LINK if self.link_paused else 0
        )


@dataclass(frozen=True)
class LinkHub:
    id: str
    name: str
    shockers: list[LinkShocker]


@dataclass(frozen=True)
class ShareLinkDetail:
    link: ShareLinkRow
    author: UserRef
    hubs: list[LinkHub]


class OpenShockShareLinkView:
    name = "openshock_share_links"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_LINKS} ("
            " link_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, name TEXT NOT NULL,"
            " created_at TEXT NOT NULL, expires_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS {_LINKS}_owner ON {_LINKS} (owner_id)",
            f"CREATE TABLE IF NOT EXISTS {_LINK_SHOCKERS} ("
            " link_id TEXT NOT NULL, shocker_id TEXT NOT NULL, position BIGINT NOT NULL,"
            f" {RIGHTS_COLUMN_DEFINITIONS}, cooldown INTEGER, paused INTEGER NOT NULL,"
            " PRIMARY KEY (link_id, shocker_id))",
            f"CREATE INDEX IF NOT EXISTS {_LINK_SHOCKERS}_shocker ON {_LINK_SHOCKERS} (shocker_id)",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_LINKS}", f"DROP TABLE IF EXISTS {_LINK_SHOCKERS}"]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        # In log order: a shocker's deletion removes rows the links made. The transaction
        # sends each run of the same statement as one executemany.
        for record in records:
            if record.type in _TYPES:
                self.apply(record, tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        kind, payload, key = record.type, record.payload, record.aggregate_id
        if kind == _CREATED:
            expires = payload.get("expires_at")
            tx.execute(
                f"INSERT INTO {_LINKS} ({_LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (link_id) DO NOTHING",
                (
                    key,
                    payload["owner_id"],
                    payload["name"],
                    utc_text(record.timestamp),
                    None if expires is None else utc_text(expires),
                ),
            )
        elif kind == _DELETED:
            tx.execute(f"DELETE FROM {_LINK_SHOCKERS} WHERE link_id = ?", (key,))
            tx.execute(f"DELETE FROM {_LINKS} WHERE link_id = ?", (key,))
        elif kind == _ADDED:
            tx.execute(
                f"INSERT INTO {_LINK_SHOCKERS} (link_id, shocker_id, position, {RIGHTS_COLUMNS},"
                " cooldown, paused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)"
                " ON CONFLICT (link_id, shocker_id) DO NOTHING",
                (
                    key,
                    payload["shocker_id"],
                    record.position,
                    *rights_values(payload["permissions"], _NO_LIMITS),
                ),
            )
        elif kind == _EDITED:
            tx.execute(
                f"UPDATE {_LINK_SHOCKERS} SET vibrate = ?, sound = ?, shock = ?, live = ?,"
                " max_intensity = ?, max_duration = ?, cooldown = ?"
                " WHERE link_id = ? AND shocker_id = ?",
                (
                    *rights_values(payload["permissions"], payload["limits"]),
                    payload["cooldown"],
                    key,
                    payload["shocker_id"],
                ),
            )
        elif kind == _PAUSE_SET:
            tx.execute(
                f"UPDATE {_LINK_SHOCKERS} SET paused = ? WHERE link_id = ? AND shocker_id = ?",
                (1 if payload["paused"] else 0, key, payload["shocker_id"]),
            )
        elif kind == _REMOVED:
            tx.execute(
                f"DELETE FROM {_LINK_SHOCKERS} WHERE link_id = ? AND shocker_id = ?",
                (key, payload["shocker_id"]),
            )
        elif kind == _SHOCKER_DELETED:
            tx.execute(f"DELETE FROM {_LINK_SHOCKERS} WHERE shocker_id = ?", (key,))


def share_links_of(tx: ViewTransaction, owner_id: str, now: datetime) -> list[ShareLinkRow]:
    """GET /1/shares/links: the owner's links that have not expired, oldest first."""
    rows = tx.fetchall(
        f"SELECT {_LINK_COLUMNS} FROM {_LINKS} WHERE owner_id = ?"
        " AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, link_id",
        (owner_id, utc_text(now)),
    )
    return [_link(r) for r in rows]


def share_link(tx: ViewTransaction, link_id: str, now: datetime | None) -> ShareLinkDetail | None:
    """GET /1/public/shares/links/{id}: the link with its author and its shockers by hub
    (anonymous; an owner's route compares `link.owner_id`). Live at `now` only, unless `now`
    is None: the real API's public read shows an expired link too, with its expiresOn."""
    live = "" if now is None else " AND (expires_at IS NULL OR expires_at > ?)"
    rows = tx.fetchall(
        f"SELECT {_LINK_COLUMNS} FROM {_LINKS} WHERE link_id = ?{live}",
        (link_id,) if now is None else (link_id, utc_text(now)),
    )
    if not rows:
        return None
    link = _link(rows[0])
    hubs: dict[str, LinkHub] = {}
    for r in tx.fetchall(
        f"SELECT k.hub_id, h.name, s.shocker_id, k.name, k.paused, s.cooldown, s.paused,"
        f" {', '.join('s.' + c for c in RIGHTS_COLUMNS.split(', '))}"
        f" FROM {_LINK_SHOCKERS} s JOIN {SHOCKERS_TABLE} k ON k.shocker_id = s.shocker_id"
        f" JOIN {HUBS_TABLE} h ON h.hub_id = k.hub_id"
        " WHERE s.link_id = ? ORDER BY s.position",
        (link_id,),
    ):
        permissions, limits = rights_of(r[7:13])
        hub = hubs.get(str(r[0]))
        if hub is None:
            hub = hubs[str(r[0])] = LinkHub(str(r[0]), str(r[1]), [])
        hub.shockers.append(
            LinkShocker(
                id=str(r[2]),
                name=str(r[3]),
                permissions=permissions,
                limits=limits,
                cooldown=None if r[5] is None else int(r[5]),
                link_paused=bool(r[6]),
                shocker_paused=bool(r[4]),
            )
        )
    author = user_refs(tx, [link.owner_id])[link.owner_id]
    return ShareLinkDetail(link, author, list(hubs.values()))


def _link(r: tuple[Any, ...]) -> ShareLinkRow:
    return ShareLinkRow(
        id=str(r[0]),
        owner_id=str(r[1]),
        name=str(r[2]),
        created_on=utc_time(r[3]),
        expires_on=None if r[4] is None else utc_time(r[4]),
    )


def links_with_shocker(tx: ViewTransaction, shocker_id: str) -> list[str]:
    """The share links a shocker is in (their guests are told when its pause changes)."""
    rows = tx.fetchall(
        f"SELECT link_id FROM {_LINK_SHOCKERS} WHERE shocker_id = ? ORDER BY link_id",
        (shocker_id,),
    )
    return [str(r[0]) for r in rows]
