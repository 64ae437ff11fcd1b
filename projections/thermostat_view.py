"""Thermostats as SENZ's API answers them, per owner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.records import LogRecord
from projections.view_store import ViewTransaction, apply_by_aggregate

_TABLE = "view_thermostats"
# The live device sessions behind `online`: a thermostat is online while it has one.
_SESSIONS = "view_thermostat_sessions"
_COLUMNS = (
    "serial_number, owner, name, mode, set_point, hold_until, current_temperature,"
    " online, is_heating, error_state"
)


@dataclass(frozen=True)
class ThermostatRow:
    serial_number: str
    owner: str
    name: str
    mode: int
    set_point: int
    hold_until: str | None
    current_temperature: int
    online: bool
    is_heating: bool
    error_state: str | None


class ThermostatView:
    name = "thermostats"
    # 2: online follows the live device sessions.
    version = 2

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " aggregate_id TEXT PRIMARY KEY, serial_number TEXT NOT NULL UNIQUE,"
            " owner TEXT NOT NULL, name TEXT NOT NULL, mode INTEGER NOT NULL,"
            " set_point INTEGER NOT NULL, hold_until TEXT, current_temperature INTEGER NOT NULL,"
            " online INTEGER NOT NULL, is_heating INTEGER NOT NULL, error_state TEXT)",
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_owner ON {_TABLE} (owner)",
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_hold ON {_TABLE} (mode, hold_until)",
            f"CREATE TABLE IF NOT EXISTS {_SESSIONS} ("
            " aggregate_id TEXT NOT NULL, session_id TEXT NOT NULL,"
            " PRIMARY KEY (aggregate_id, session_id))",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}", f"DROP TABLE IF EXISTS {_SESSIONS}"]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        mine = [r for r in records if r.type.startswith("Thermostat.")]
        apply_by_aggregate(self.apply, mine, tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        payload = record.payload
        if record.type == "Thermostat.Registered":
            tx.execute(
                f"INSERT INTO {_TABLE} (aggregate_id, {_COLUMNS})"
                " VALUES (?, ?, ?, ?, 1, 2000, NULL, 2000, 0, 0, NULL)"
                " ON CONFLICT (aggregate_id) DO NOTHING",
                (record.aggregate_id, payload["serial_number"], payload["owner"], payload["name"]),
            )
        elif record.type == "Thermostat.ModeChanged":
            tx.execute(
                f"UPDATE {_TABLE} SET mode = ?, set_point = ?, hold_until = ?"
                " WHERE aggregate_id = ?",
                (
                    payload["mode"],
                    payload["set_point"],
                    _utc(payload.get("hold_until")),
                    record.aggregate_id,
                ),
            )
        elif record.type == "Thermostat.Connected":
            tx.execute(
                f"INSERT INTO {_SESSIONS} (aggregate_id, session_id) VALUES (?, ?)"
                " ON CONFLICT (aggregate_id, session_id) DO NOTHING",
                (record.aggregate_id, payload["session_id"]),
            )
            _update_online(tx, record.aggregate_id)
        elif record.type == "Thermostat.Disconnected":
            for session_id in payload["ended"]:
                tx.execute(
                    f"DELETE FROM {_SESSIONS} WHERE aggregate_id = ? AND session_id = ?",
                    (record.aggregate_id, session_id),
                )
            _update_online(tx, record.aggregate_id)
        elif record.type == "Thermostat.Reported":
            tx.execute(
                f"UPDATE {_TABLE} SET current_temperature = ?, is_heating = ?, error_state = ?"
                " WHERE aggregate_id = ?",
                (
                    payload["current_temperature"],
                    1 if payload["is_heating"] else 0,
                    payload.get("error_state"),
                    record.aggregate_id,
                ),
            )
        elif record.type == "Thermostat.HoldExpired":
            tx.execute(
                f"UPDATE {_TABLE} SET mode = 1, set_point = ?, hold_until = NULL"
                " WHERE aggregate_id = ?",
                (payload["set_point"], record.aggregate_id),
            )


def _update_online(tx: ViewTransaction, aggregate_id: str) -> None:
    tx.execute(
        f"UPDATE {_TABLE} SET online = CASE WHEN EXISTS"
        f" (SELECT 1 FROM {_SESSIONS} WHERE aggregate_id = ?) THEN 1 ELSE 0 END"
        " WHERE aggregate_id = ?",
        (aggregate_id, aggregate_id),
    )


def _utc(text: str | None) -> str | None:
    if text is None:
        return None
    return datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%SZ")


def thermostats_of(tx: ViewTransaction, owner: str) -> list[ThermostatRow]:
    rows = tx.fetchall(
        f"SELECT {_COLUMNS} FROM {_TABLE} WHERE owner = ? ORDER BY serial_number", (owner,)
    )
    return [_row(r) for r in rows]


def thermostat_of(tx: ViewTransaction, owner: str, serial_number: str) -> ThermostatRow | None:
    rows = tx.fetchall(
        f"SELECT {_COLUMNS} FROM {_TABLE} WHERE owner = ? AND serial_number = ?",
        (owner, serial_number.strip().upper()),
    )
    return _row(rows[0]) if rows else None


def expired_holds(tx: ViewTransaction, now: datetime) -> list[str]:
    rows = tx.fetchall(
        f"SELECT serial_number FROM {_TABLE} WHERE mode = 2 AND hold_until <= ?",
        (now.strftime("%Y-%m-%dT%H:%M:%SZ"),),
    )
    return [str(r[0]) for r in rows]


def _row(r: tuple[Any, ...]) -> ThermostatRow:
    return ThermostatRow(
        str(r[0]),
        str(r[1]),
        str(r[2]),
        int(r[3]),
        int(r[4]),
        r[5],
        int(r[6]),
        bool(r[7]),
        bool(r[8]),
        r[9],
    )


def thermostats_in_auto(tx: ViewTransaction) -> list[str]:
    return [str(r[0]) for r in tx.fetchall(f"SELECT serial_number FROM {_TABLE} WHERE mode = 1")]
