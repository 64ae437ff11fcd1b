"""OpenShock hubs ("devices") and their shockers, per owner: what /1/devices, /1/shockers/own,
/1/shockers/{id} and a hub's own /1/device/self answer.

Lookups by id return the owner with the row, so that a route answers 404 for another user's
hub or shocker exactly as for a missing one. Deleted hubs and shockers leave no row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.openshock.hub import Hub
from domain.openshock.shocker import Shocker
from projections.openshock_shapes import utc_text, utc_time
from projections.records import LogRecord
from projections.view_store import ViewTransaction, apply_by_aggregate

# Read by the other OpenShock views' queries for names, hubs, owners and pauses.
HUBS_TABLE = "view_openshock_hubs"
SHOCKERS_TABLE = "view_openshock_shockers"

_HUB_COLUMNS = "hub_id, owner_id, name, created_at"
_SHOCKER_COLUMNS = "shocker_id, hub_id, owner_id, name, rf_id, model, paused, created_at"

_HUB_CREATED = Hub.Created.__qualname__
_HUB_RENAMED = Hub.Renamed.__qualname__
_HUB_DELETED = Hub.Deleted.__qualname__
_SHOCKER_CREATED = Shocker.Created.__qualname__
_SHOCKER_EDITED = Shocker.Edited.__qualname__
_SHOCKER_PAUSE_SET = Shocker.PauseSet.__qualname__
_SHOCKER_DELETED = Shocker.Deleted.__qualname__
_TYPES = frozenset(
    {
        _HUB_CREATED,
        _HUB_RENAMED,
        _HUB_DELETED,
        _SHOCKER_CREATED,
        _SHOCKER_EDITED,
        _SHOCKER_PAUSE_SET,
        _SHOCKER_DELETED,
    }
)


@dataclass(frozen=True)
class HubRow:
    id: str
    owner_id: str
    name: str
    created_on: datetime


@dataclass(frozen=True)
class ShockerRow:
    id: str
    hub_id: str
    owner_id: str
    name: str
    rf_id: int
    model: str
    is_paused: bool
    created_on: datetime


@dataclass(frozen=True)
class HubWithShockers:
    hub: HubRow
    shockers: list[ShockerRow]


class OpenShockHubView:
    name = "openshock_hubs"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {HUBS_TABLE} ("
            " hub_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, name TEXT NOT NULL,"
            " created_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {HUBS_TABLE}_owner ON {HUBS_TABLE} (owner_id)",
            f"CREATE TABLE IF NOT EXISTS {SHOCKERS_TABLE} ("
            " shocker_id TEXT PRIMARY KEY, hub_id TEXT NOT NULL, owner_id TEXT NOT NULL,"
            " name TEXT NOT NULL, rf_id INTEGER NOT NULL, model TEXT NOT NULL,"
            " paused INTEGER NOT NULL, created_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {SHOCKERS_TABLE}_hub ON {SHOCKERS_TABLE} (hub_id)",
            f"CREATE INDEX IF NOT EXISTS {SHOCKERS_TABLE}_owner ON {SHOCKERS_TABLE} (owner_id)",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {HUBS_TABLE}", f"DROP TABLE IF EXISTS {SHOCKERS_TABLE}"]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        # Every row is its own aggregate's (a hub's shockers are deleted by their own events),
        # so a batch's statements go out grouped, one executemany per statement.
        apply_by_aggregate(self.apply, [r for r in records if r.type in _TYPES], tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        kind, payload, key = record.type, record.payload, record.aggregate_id
        if kind == _HUB_CREATED:
            tx.execute(
                f"INSERT INTO {HUBS_TABLE} ({_HUB_COLUMNS}) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (hub_id) DO NOTHING",
                (key, payload["owner_id"], payload["name"], utc_text(record.timestamp)),
            )
        elif kind == _HUB_RENAMED:
            tx.execute(f"UPDATE {HUBS_TABLE} SET name = ? WHERE hub_id = ?", (payload["name"], key))
        elif kind == _HUB_DELETED:
            tx.execute(f"DELETE FROM {HUBS_TABLE} WHERE hub_id = ?", (key,))
        elif kind == _SHOCKER_CREATED:
            tx.execute(
                f"INSERT INTO {SHOCKERS_TABLE} ({_SHOCKER_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (shocker_id) DO NOTHING",
                (
                    key,
                    payload["hub_id"],
                    payload["owner_id"],
                    payload["name"],
                    payload["rf_id"],
                    payload["model"],
                    utc_text(record.timestamp),
                ),
            )
        elif kind == _SHOCKER_EDITED:
            tx.execute(
                f"UPDATE {SHOCKERS_TABLE} SET hub_id = ?, name = ?, rf_id = ?, model = ?"
                " WHERE shocker_id = ?",
                (payload["hub_id"], payload["name"], payload["rf_id"], payload["model"], key),
            )
        elif kind == _SHOCKER_PAUSE_SET:
            tx.execute(
                f"UPDATE {SHOCKERS_TABLE} SET paused = ? WHERE shocker_id = ?",
                (1 if payload["paused"] else 0, key),
            )
        elif kind == _SHOCKER_DELETED:
            tx.execute(f"DELETE FROM {SHOCKERS_TABLE} WHERE shocker_id = ?", (key,))


def hubs_of(tx: ViewTransaction, owner_id: str) -> list[HubRow]:
    """GET /1/devices: the user's hubs, oldest first."""
    rows = tx.fetchall(
        f"SELECT {_HUB_COLUMNS} FROM {HUBS_TABLE} WHERE owner_id = ? ORDER BY created_at, hub_id",
        (owner_id,),
    )
    return [_hub(r) for r in rows]


def hubs_with_shockers(tx: ViewTransaction, owner_id: str) -> list[HubWithShockers]:
    """GET /1/shockers/own: the user's hubs, each with its shockers."""
    shockers: dict[str, list[ShockerRow]] = {}
    rows = tx.fetchall(
        f"SELECT {_SHOCKER_COLUMNS} FROM {SHOCKERS_TABLE} WHERE owner_id = ?"
        " ORDER BY created_at, shocker_id",
        (owner_id,),
    )
    for r in rows:
        shocker = _shocker(r)
        shockers.setdefault(shocker.hub_id, []).append(shocker)
    return [HubWithShockers(hub, shockers.get(hub.id, [])) for hub in hubs_of(tx, owner_id)]


def hub_by_id(tx: ViewTransaction, hub_id: str) -> HubRow | None:
    """Any user's hub: the caller compares `owner_id` (and answers 404, not 403)."""
    rows = tx.fetchall(f"SELECT {_HUB_COLUMNS} FROM {HUBS_TABLE} WHERE hub_id = ?", (hub_id,))
    return _hub(rows[0]) if rows else None


def own_hub(tx: ViewTransaction, owner_id: str, hub_id: str) -> HubRow | None:
    """The hub if `owner_id` owns it; another user's hub is as missing as an unknown one."""
    hub = hub_by_id(tx, hub_id)
    return hub if hub is not None and hub.owner_id == owner_id else None


def shockers_of_hub(tx: ViewTransaction, hub_id: str) -> list[ShockerRow]:
    """GET /1/devices/{id}/shockers and the hub's own /1/device/self."""
    rows = tx.fetchall(
        f"SELECT {_SHOCKER_COLUMNS} FROM {SHOCKERS_TABLE} WHERE hub_id = ?"
        " ORDER BY created_at, shocker_id",
        (hub_id,),
    )
    return [_shocker(r) for r in rows]


def shocker_by_id(tx: ViewTransaction, shocker_id: str) -> ShockerRow | None:
    rows = tx.fetchall(
        f"SELECT {_SHOCKER_COLUMNS} FROM {SHOCKERS_TABLE} WHERE shocker_id = ?", (shocker_id,)
    )
    return _shocker(rows[0]) if rows else None


def own_shocker(tx: ViewTransaction, owner_id: str, shocker_id: str) -> ShockerRow | None:
    shocker = shocker_by_id(tx, shocker_id)
    return shocker if shocker is not None and shocker.owner_id == owner_id else None


def _hub(r: tuple[Any, ...]) -> HubRow:
    return HubRow(id=str(r[0]), owner_id=str(r[1]), name=str(r[2]), created_on=utc_time(r[3]))


def _shocker(r: tuple[Any, ...]) -> ShockerRow:
    return ShockerRow(
        id=str(r[0]),
        hub_id=str(r[1]),
        owner_id=str(r[2]),
        name=str(r[3]),
        rf_id=int(r[4]),
        model=str(r[5]),
        is_paused=bool(r[6]),
        created_on=utc_time(r[7]),
    )
