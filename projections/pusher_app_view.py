"""Pusher apps as operators list them and as nodes find them by key: never the secret."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from domain.pusher.pusher_app import PusherApp
from projections.records import LogRecord
from projections.view_store import ViewTransaction

_TABLE = "view_pusher_apps"
_COLUMNS = "app_id, key, name, enabled, limits, webhooks, created_at, updated_at"


@dataclass(frozen=True)
class PusherAppRow:
    app_id: str
    key: str
    name: str
    enabled: bool
    limits: dict[str, Any]
    webhooks: list[dict[str, Any]]
    created_at: str
    updated_at: str


def _type(cls: type) -> str:
    # A record's type is its event class's qualified name ("PusherApp.Created"); records
    # read back from the store carry the name, not the class.
    return cls.__qualname__


class PusherAppView:
    name = "pusher_apps"
    version = 1

    def __init__(self) -> None:
        # column -> how it is set from the event's payload, per event class.
        self._updates: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
            _type(PusherApp.LimitsSet): ("limits", lambda p: orjson.dumps(p["limits"]).decode()),
            _type(PusherApp.Enabled): ("enabled", lambda p: 1),
            _type(PusherApp.Disabled): ("enabled", lambda p: 0),
            _type(PusherApp.Renamed): ("name", lambda p: p["name"]),
            _type(PusherApp.KeyChanged): ("key", lambda p: p["key"]),
            _type(PusherApp.WebhooksSet): (
                "webhooks",
                lambda p: orjson.dumps(p["webhooks"]).decode(),
            ),
        }
        self._created = _type(PusherApp.Created)
        self._touched = _type(PusherApp.SecretRotated)

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " app_id TEXT PRIMARY KEY, key TEXT NOT NULL, name TEXT NOT NULL,"
            " enabled INTEGER NOT NULL, limits TEXT NOT NULL, webhooks TEXT NOT NULL,"
            " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_key ON {_TABLE} (key)",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}"]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        # A rebuild's records are mostly other aggregates': not one call each for those.
        for record in records:
            if record.type.startswith("PusherApp."):
                self.apply(record, tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        payload = record.payload
        at = record.timestamp.isoformat()
        if record.type == self._created:
            tx.execute(
                f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (app_id) DO NOTHING",
                (
                    payload["app_id"],
                    payload["key"],
                    payload["name"],
                    1 if payload["enabled"] else 0,
                    orjson.dumps(payload["limits"]).decode(),
                    orjson.dumps(payload["webhooks"]).decode(),
                    at,
                    at,
                ),
            )
            return
        update = self._updates.get(record.type)
        if update is not None:
            column, value = update
            tx.execute(
                f"UPDATE {_TABLE} SET {column} = ?, updated_at = ? WHERE app_id = ?",
                (value(payload), at, payload["app_id"]),
            )
        elif record.type == self._touched:
            tx.execute(
                f"UPDATE {_TABLE} SET updated_at = ? WHERE app_id = ?", (at, payload["app_id"])
            )


def list_apps(tx: ViewTransaction) -> list[PusherAppRow]:
    rows = tx.fetchall(f"SELECT {_COLUMNS} FROM {_TABLE} ORDER BY created_at, app_id")
    return [_row(r) for r in rows]


def app_by_id(tx: ViewTransaction, app_id: str) -> PusherAppRow | None:
    rows = tx.fetchall(f"SELECT {_COLUMNS} FROM {_TABLE} WHERE app_id = ?", (app_id,))
    return _row(rows[0]) if rows else None


def app_id_by_key(tx: ViewTransaction, key: str) -> str | None:
    rows = tx.fetchall(f"SELECT app_id FROM {_TABLE} WHERE key = ? ORDER BY created_at", (key,))
    return str(rows[0][0]) if rows else None


def _row(r: tuple[Any, ...]) -> PusherAppRow:
    return PusherAppRow(
        app_id=str(r[0]),
        key=str(r[1]),
        name=str(r[2]),
        enabled=bool(r[3]),
        limits=orjson.loads(r[4]),
        webhooks=orjson.loads(r[5]),
        created_at=str(r[6]),
        updated_at=str(r[7]),
    )
