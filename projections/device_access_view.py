"""The DeviceAuth access list as the REST API answers it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from projections.records import LogRecord
from projections.view_store import ViewTransaction, apply_by_aggregate

_TABLE = "view_device_access"


@dataclass(frozen=True)
class DeviceAccessRow:
    device_identifier: str
    public_key: str | None
    unknown: bool


class DeviceAccessView:
    name = "device_access"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " aggregate_id TEXT PRIMARY KEY,"
            " device_identifier TEXT NOT NULL UNIQUE,"
            " public_key TEXT,"
            " known INTEGER NOT NULL,"
            " position BIGINT NOT NULL)"
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}"]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        mine = [r for r in records if r.type.startswith("DeviceAccess.")]
        apply_by_aggregate(self.apply, mine, tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        if not record.type.startswith("DeviceAccess."):
            return
        kind = record.type.split(".", 1)[1]
        payload = record.payload
        if kind == "Registered":
            tx.execute(
                f"INSERT INTO {_TABLE}"
                " (aggregate_id, device_identifier, public_key, known, position)"
                " VALUES (?, ?, NULL, 0, ?) ON CONFLICT (aggregate_id) DO NOTHING",
                (record.aggregate_id, payload["device_identifier"], record.position),
            )
            return
        identifier = record.aggregate_id
        if kind == "PublicKeySet":
            tx.execute(
                f"UPDATE {_TABLE} SET public_key = ?, known = 0, position = ?"
                " WHERE aggregate_id = ?",
                (payload["public_key"], record.position, identifier),
            )
        elif kind == "PublicKeyCleared":
            tx.execute(
                f"UPDATE {_TABLE} SET public_key = NULL, known = 0, position = ?"
                " WHERE aggregate_id = ?",
                (record.position, identifier),
            )
        elif kind == "ChallengePassed":
            tx.execute(
                f"UPDATE {_TABLE} SET known = 1, position = ? WHERE aggregate_id = ?",
                (record.position, identifier),
            )


def list_devices(tx: ViewTransaction) -> list[DeviceAccessRow]:
    rows = tx.fetchall(
        f"SELECT device_identifier, public_key, known FROM {_TABLE} ORDER BY device_identifier"
    )
    return [DeviceAccessRow(str(r[0]), r[1], not bool(r[2])) for r in rows]


def get_device(tx: ViewTransaction, device_identifier: str) -> DeviceAccessRow | None:
    rows = tx.fetchall(
        f"SELECT device_identifier, public_key, known FROM {_TABLE} WHERE device_identifier = ?",
        (device_identifier,),
    )
    return DeviceAccessRow(str(rows[0][0]), rows[0][1], not bool(rows[0][2])) if rows else None
