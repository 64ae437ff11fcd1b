"""Open offers to share OpenShock shockers: legacy share codes and share invites.

Answers /1/shockers/{id}/shareCodes and /2/shares/user/invites/outgoing|incoming. Only live
offers have rows: a code goes when redeemed or deleted, an invite when accepted, denied or
cancelled, and a deleted shocker leaves every code and invite it was in, as the real API's
foreign keys cascade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.openshock.sharing import ShareCode, ShareInvite
from domain.openshock.shocker import Shocker
from domain.openshock.values import ShareLimits, SharePermissions
from projections.openshock_hub_view import SHOCKERS_TABLE
from projections.openshock_shapes import (
    RIGHTS_COLUMN_DEFINITIONS,
    RIGHTS_COLUMNS,
    UserRef,
    rights_of,
    rights_values,
    rows_in,
    user_refs,
    utc_text,
    utc_time,
)
from projections.records import LogRecord
from projections.view_store import ViewTransaction

_CODES = "view_openshock_share_codes"
_INVITES = "view_openshock_invites"
_INVITE_SHOCKERS = "view_openshock_invite_shockers"

_CODE_CREATED = ShareCode.Created.__qualname__
_CODE_GONE = frozenset({ShareCode.Redeemed.__qualname__, ShareCode.Deleted.__qualname__})
_INVITE_SENT = ShareInvite.Sent.__qualname__
_INVITE_CLOSED = frozenset(
    {
        ShareInvite.Accepted.__qualname__,
        ShareInvite.Denied.__qualname__,
        ShareInvite.Cancelled.__qualname__,
    }
)
_SHOCKER_DELETED = Shocker.Deleted.__qualname__
_TYPES = frozenset({_CODE_CREATED, _INVITE_SENT, _SHOCKER_DELETED} | _CODE_GONE | _INVITE_CLOSED)


@dataclass(frozen=True)
class ShareCodeRow:
    id: str
    created_on: datetime


@dataclass(frozen=True)
class InviteShocker:
    id: str
    name: str
    permissions: SharePermissions
    limits: ShareLimits


@dataclass(frozen=True)
class InviteRow:
    """An invite as both its sender and its recipient list it."""

    id: str
    created_at: datetime
    owner: UserRef
    shared_with: UserRef | None  # None: an open invite, for whoever takes it first
    shockers: list[InviteShocker]


class OpenShockOfferView:
    name = "openshock_share_offers"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_CODES} ("
            " code_id TEXT PRIMARY KEY, shocker_id TEXT NOT NULL, created_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {_CODES}_shocker ON {_CODES} (shocker_id)",
            f"CREATE TABLE IF NOT EXISTS {_INVITES} ("
            " invite_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, recipient_id TEXT,"
            " created_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {_INVITES}_owner ON {_INVITES} (owner_id)",
            f"CREATE INDEX IF NOT EXISTS {_INVITES}_recipient ON {_INVITES} (recipient_id)",
            f"CREATE TABLE IF NOT EXISTS {_INVITE_SHOCKERS} ("
            " invite_id TEXT NOT NULL, shocker_id TEXT NOT NULL, position INTEGER NOT NULL,"
            f" {RIGHTS_COLUMN_DEFINITIONS}, PRIMARY KEY (invite_id, shocker_id))",
            f"CREATE INDEX IF NOT EXISTS {_INVITE_SHOCKERS}_shocker"
            f" ON {_INVITE_SHOCKERS} (shocker_id)",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {t}" for t in (_CODES, _INVITES, _INVITE_SHOCKERS)]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        # In log order: a shocker's deletion removes rows other aggregates made. The
        # transaction sends each run of the same statement as one executemany.
        for record in records:
            if record.type in _TYPES:
                self.apply(record, tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        kind, payload, key = record.type, record.payload, record.aggregate_id
        if kind == _CODE_CREATED:
            tx.execute(
                f"INSERT INTO {_CODES} (code_id, shocker_id, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (code_id) DO NOTHING",
                (key, payload["shocker_id"], utc_text(record.timestamp)),
            )
        elif kind in _CODE_GONE:
            tx.execute(f"DELETE FROM {_CODES} WHERE code_id = ?", (key,))
        elif kind == _INVITE_SENT:
            tx.execute(
                f"INSERT INTO {_INVITES} (invite_id, owner_id, recipient_id, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (invite_id) DO NOTHING",
                (key, payload["owner_id"], payload["recipient_id"], utc_text(record.timestamp)),
            )
            tx.executemany(
                f"INSERT INTO {_INVITE_SHOCKERS} (invite_id, shocker_id, position,"
                f" {RIGHTS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (invite_id, shocker_id) DO NOTHING",
                [
                    (
                        key,
                        item["shocker_id"],
                        n,
                        *rights_values(item["permissions"], item["limits"]),
                    )
                    for n, item in enumerate(payload["shockers"])
                ],
            )
        elif kind in _INVITE_CLOSED:
            tx.execute(f"DELETE FROM {_INVITE_SHOCKERS} WHERE invite_id = ?", (key,))
            tx.execute(f"DELETE FROM {_INVITES} WHERE invite_id = ?", (key,))
        elif kind == _SHOCKER_DELETED:
            tx.execute(f"DELETE FROM {_CODES} WHERE shocker_id = ?", (key,))
            tx.execute(f"DELETE FROM {_INVITE_SHOCKERS} WHERE shocker_id = ?", (key,))


def share_codes_of_shocker(tx: ViewTransaction, shocker_id: str) -> list[ShareCodeRow]:
    """GET /1/shockers/{id}/shareCodes (the route checks the caller owns the shocker)."""
    rows = tx.fetchall(
        f"SELECT code_id, created_at FROM {_CODES} WHERE shocker_id = ?"
        " ORDER BY created_at, code_id",
        (shocker_id,),
    )
    return [ShareCodeRow(str(r[0]), utc_time(r[1])) for r in rows]


def outgoing_invites(tx: ViewTransaction, owner_id: str) -> list[InviteRow]:
    """GET /2/shares/user/invites/outgoing: the owner's pending invites."""
    return _invites(tx, "owner_id = ?", owner_id)


def incoming_invites(tx: ViewTransaction, user_id: str) -> list[InviteRow]:
    """GET /2/shares/user/invites/incoming: invites addressed to the user (open invites are
    taken by id, not listed, as in the real API)."""
    return _invites(tx, "recipient_id = ?", user_id)


def _invites(tx: ViewTransaction, where: str, user_id: str) -> list[InviteRow]:
    invites = tx.fetchall(
        f"SELECT invite_id, owner_id, recipient_id, created_at FROM {_INVITES}"
        f" WHERE {where} ORDER BY created_at, invite_id",
        (user_id,),
    )
    if not invites:
        return []
    ids = [str(r[0]) for r in invites]
    shockers: dict[str, list[InviteShocker]] = {}
    for r in rows_in(
        tx,
        f"SELECT i.invite_id, i.shocker_id, COALESCE(k.name, ''),"
        f" {', '.join('i.' + c for c in RIGHTS_COLUMNS.split(', '))}"
        f" FROM {_INVITE_SHOCKERS} i LEFT JOIN {SHOCKERS_TABLE} k ON k.shocker_id = i.shocker_id"
        " WHERE i.invite_id IN (?*) ORDER BY i.invite_id, i.position",
        ids,
    ):
        permissions, limits = rights_of(r[3:9])
        shockers.setdefault(str(r[0]), []).append(
            InviteShocker(str(r[1]), str(r[2]), permissions, limits)
        )
    users = user_refs(tx, _people(invites))
    return [
        InviteRow(
            id=str(r[0]),
            created_at=utc_time(r[3]),
            owner=users[str(r[1])],
            shared_with=None if r[2] is None else users[str(r[2])],
            shockers=shockers.get(str(r[0]), []),
        )
        for r in invites
    ]


def _people(invites: list[tuple[Any, ...]]) -> set[str]:
    people = {str(r[1]) for r in invites}
    people.update(str(r[2]) for r in invites if r[2] is not None)
    return people
