"""OpenShock control logs: one row per control item sent (`ShockerCommand.Sent`).

Answers GET /1/shockers/{id}/logs (newest first, offset and limit) and the paged
GET /1/shockers/logs (a user's shockers, a shockerIds filter, the real API's sort keys,
totalCount). Names of shockers and hubs are today's, read from the hubs view, as the real
API joins them; senders' names come from the users view.

Bounded as the real API bounds them: its daily job keeps each owner's newest 2,048 logs
(HardLimits.MaxShockerControlLogsPerUser), and deleting a shocker deletes its logs. Here an
owner's logs are cut back to 2,048 whenever they pass 2,048 + 256, so a busy owner costs
one cut per 256 controls; the cut follows log order, so a rebuild keeps the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.openshock.control import ShockerCommand
from domain.openshock.shocker import Shocker
from domain.openshock.values import ControlType
from projections.openshock_hub_view import HUBS_TABLE, SHOCKERS_TABLE
from projections.openshock_shapes import (
    GUEST_ID,
    GUEST_NAME,
    image_url,
    placeholders,
    rows_in,
    user_refs,
    utc_text,
    utc_time,
)
from projections.records import LogRecord
from projections.view_store import ViewTransaction

MAX_CONTROL_LOGS_PER_OWNER = 2048
_PRUNE_SLACK = 256
# The paged route's bounds (the real API's PaginationQuery).
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200

_TABLE = "view_openshock_control_logs"
_COUNTS = "view_openshock_control_log_counts"
_COLUMNS = (
    "log_id, position, owner_id, shocker_id, hub_id, shocker_name, type, intensity,"
    " duration, controlled_by, custom_name, created_at"
)
_INSERT = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (log_id) DO NOTHING"
)
_SENT = ShockerCommand.Sent.__qualname__
_SHOCKER_DELETED = Shocker.Deleted.__qualname__

# What a query reads: the log with its shocker's and hub's names as they are now.
_SELECT = (
    "SELECT l.log_id, l.shocker_id, COALESCE(k.name, l.shocker_name), COALESCE(k.hub_id,"
    " l.hub_id), COALESCE(h.name, ''), l.type, l.intensity, l.duration, l.created_at,"
    f" l.controlled_by, l.custom_name FROM {_TABLE} l"
    f" LEFT JOIN {SHOCKERS_TABLE} k ON k.shocker_id = l.shocker_id"
    f" LEFT JOIN {HUBS_TABLE} h ON h.hub_id = COALESCE(k.hub_id, l.hub_id)"
)
# The real API's sort keys (any case) -> the column; type sorts by its number, as there.
_TYPE_ORDER = " ".join(f"WHEN '{t.value}' THEN {n}" for n, t in enumerate(ControlType))
_SORTS = {
    "createdon": "l.created_at",
    "intensity": "l.intensity",
    "duration": "l.duration",
    "type": f"CASE l.type {_TYPE_ORDER} ELSE 9 END",
    "hubname": "COALESCE(h.name, '')",
    "shockername": "COALESCE(k.name, l.shocker_name)",
}


@dataclass(frozen=True)
class ControlledBy:
    """Who sent a control: a user, or the Guest of a share link (with the name they gave)."""

    id: str
    name: str
    image: str
    custom_name: str | None


@dataclass(frozen=True)
class ControlLog:
    id: str
    shocker_id: str
    shocker_name: str
    hub_id: str
    hub_name: str
    type: str
    intensity: int
    duration: int
    created_on: datetime
    controlled_by: ControlledBy


@dataclass(frozen=True)
class LogPageQuery:
    """GET /1/shockers/logs' query; out-of-range values are clamped as the real API does."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    shocker_ids: tuple[str, ...] = ()
    sort: str | None = None  # unknown keys sort by createdOn
    descending: bool = True


@dataclass(frozen=True)
class LogPage:
    items: list[ControlLog] = field(default_factory=list)
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    total_count: int = 0

    @property
    def total_pages(self) -> int:
        """At least 1, even with nothing to show."""
        return max(1, -(-self.total_count // self.page_size))


class OpenShockControlLogView:
    name = "openshock_control_logs"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " log_id TEXT PRIMARY KEY, position BIGINT NOT NULL, owner_id TEXT NOT NULL,"
            " shocker_id TEXT NOT NULL, hub_id TEXT NOT NULL, shocker_name TEXT NOT NULL,"
            " type TEXT NOT NULL, intensity INTEGER NOT NULL, duration INTEGER NOT NULL,"
            " controlled_by TEXT, custom_name TEXT, created_at TEXT NOT NULL)",
            # A shocker's logs and an owner's, each in log order: the two queries and the cut.
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_shocker ON {_TABLE} (shocker_id, position)",
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_owner ON {_TABLE} (owner_id, position)",
            f"CREATE TABLE IF NOT EXISTS {_COUNTS} ("
            " owner_id TEXT PRIMARY KEY, kept BIGINT NOT NULL)",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}", f"DROP TABLE IF EXISTS {_COUNTS}"]

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        self.apply_batch([record], tx)

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        # Controls between two shocker deletions go in as one executemany; a deletion comes
        # after the controls before it (none can follow it for the same shocker).
        sent: list[LogRecord] = []
        for record in records:
            if record.type == _SENT:
                sent.append(record)
            elif record.type == _SHOCKER_DELETED:
                _insert(sent, tx)
                sent = []
                _forget_shocker(record.aggregate_id, tx)
        _insert(sent, tx)


def _insert(sent: list[LogRecord], tx: ViewTransaction) -> None:
    if not sent:
        return
    tx.executemany(_INSERT, [_row(record) for record in sent])
    added = Counter(str(record.payload["owner_id"]) for record in sent)
    owners = sorted(added)
    kept_before = dict(
        rows_in(tx, f"SELECT owner_id, kept FROM {_COUNTS} WHERE owner_id IN (?*)", owners)
    )
    counts = []
    for owner in owners:
        total = int(kept_before.get(owner, 0)) + added[owner]
        kept = _kept_after(total)
        if kept < total:
            _cut(tx, owner, kept)
        counts.append((owner, kept))
    tx.executemany(
        f"INSERT INTO {_COUNTS} (owner_id, kept) VALUES (?, ?)"
        " ON CONFLICT (owner_id) DO UPDATE SET kept = excluded.kept",
        counts,
    )


def _kept_after(total: int) -> int:
    """What cutting to the cap whenever it passes cap + slack leaves after `total` rows:
    the same whether the rows came one at a time or in any batches."""
    top = MAX_CONTROL_LOGS_PER_OWNER + _PRUNE_SLACK
    if total <= top:
        return total
    return MAX_CONTROL_LOGS_PER_OWNER + (total - top - 1) % (_PRUNE_SLACK + 1)


def _cut(tx: ViewTransaction, owner: str, kept: int) -> None:
    oldest_kept = tx.fetchall(
        f"SELECT position FROM {_TABLE} WHERE owner_id = ? ORDER BY position DESC LIMIT 1 OFFSET ?",
        (owner, kept - 1),
    )
    if oldest_kept:
        tx.execute(
            f"DELETE FROM {_TABLE} WHERE owner_id = ? AND position < ?",
            (owner, oldest_kept[0][0]),
        )


def _forget_shocker(shocker_id: str, tx: ViewTransaction) -> None:
    # A shocker's logs go with it, as the real API's foreign key cascades.
    for owner, count in tx.fetchall(
        f"SELECT owner_id, COUNT(*) FROM {_TABLE} WHERE shocker_id = ? GROUP BY owner_id",
        (shocker_id,),
    ):
        tx.execute(f"UPDATE {_COUNTS} SET kept = kept - ? WHERE owner_id = ?", (count, owner))
    tx.execute(f"DELETE FROM {_TABLE} WHERE shocker_id = ?", (shocker_id,))


def _row(record: LogRecord) -> tuple[Any, ...]:
    p = record.payload
    return (
        record.aggregate_id,
        record.position,
        p["owner_id"],
        p["shocker_id"],
        p["hub_id"],
        p["shocker_name"],
        p["type"],
        p["intensity"],
        p["duration"],
        p["controlled_by"],
        p["custom_name"],
        utc_text(record.timestamp),
    )


def shocker_logs(
    tx: ViewTransaction, shocker_id: str, offset: int = 0, limit: int = 100
) -> list[ControlLog]:
    """GET /1/shockers/{id}/logs, newest first (the route checks the caller owns it)."""
    rows = tx.fetchall(
        f"{_SELECT} WHERE l.shocker_id = ? ORDER BY l.created_at DESC, l.position DESC"
        " LIMIT ? OFFSET ?",
        (shocker_id, limit, offset),
    )
    return _logs(tx, rows)


def owner_logs(tx: ViewTransaction, owner_id: str, query: LogPageQuery) -> LogPage:
    """GET /1/shockers/logs: one page of the logs of `owner_id`'s shockers."""
    page = max(1, query.page)
    page_size = min(MAX_PAGE_SIZE, max(1, query.page_size))
    where, params = "l.owner_id = ?", [owner_id]
    if query.shocker_ids:
        # Only the owner's shockers can have logs here: at most 44 ids in the IN list,
        # however many the request named.
        mine = {
            str(r[0])
            for r in tx.fetchall(
                f"SELECT shocker_id FROM {SHOCKERS_TABLE} WHERE owner_id = ?", (owner_id,)
            )
        }
        wanted = sorted(mine.intersection(query.shocker_ids))
        if not wanted:
            return LogPage([], page, page_size, 0)
        where += f" AND l.shocker_id IN ({placeholders(len(wanted))})"
        params += wanted
    total = int(tx.fetchall(f"SELECT COUNT(*) FROM {_TABLE} l WHERE {where}", params)[0][0])
    skip = (page - 1) * page_size
    if skip >= total:
        return LogPage([], page, page_size, total)
    column = _SORTS.get((query.sort or "").lower(), _SORTS["createdon"])
    direction = "DESC" if query.descending else "ASC"
    rows = tx.fetchall(
        f"{_SELECT} WHERE {where} ORDER BY {column} {direction}, l.position {direction}"
        " LIMIT ? OFFSET ?",
        [*params, page_size, skip],
    )
    return LogPage(_logs(tx, rows), page, page_size, total)


def _logs(tx: ViewTransaction, rows: list[tuple[Any, ...]]) -> list[ControlLog]:
    senders = user_refs(tx, {str(r[9]) for r in rows if r[9] is not None})
    logs = []
    for r in rows:
        custom_name = None if r[10] is None else str(r[10])
        if r[9] is None:
            sender = ControlledBy(GUEST_ID, GUEST_NAME, image_url("0"), custom_name)
        else:
            user = senders[str(r[9])]
            sender = ControlledBy(user.id, user.name, user.image, custom_name)
        logs.append(
            ControlLog(
                id=str(r[0]),
                shocker_id=str(r[1]),
                shocker_name=str(r[2]),
                hub_id=str(r[3]),
                hub_name=str(r[4]),
                type=str(r[5]),
                intensity=int(r[6]),
                duration=int(r[7]),
                created_on=utc_time(r[8]),
                controlled_by=sender,
            )
        )
    return logs
