"""API tokens as their owners list them: never the token, never its hash.

The "v2" in its name predates view versions; a change to its tables now raises `version`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from projections.records import LogRecord
from projections.view_store import ViewTransaction, apply_by_aggregate

_TABLE = "view_api_tokens_v2"


@dataclass(frozen=True)
class ApiTokenRow:
    id: str
    name: str
    owner: str | None
    permissions: list[str]
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None
    # OpenShock's v2 `shockerControl` as stored (domain/principals/shocker_control.py);
    # None: the token has no limits.
    shocker_control: dict[str, Any] | None = None


class ApiTokenView:
    name = "api_tokens_v2"
    version = 2

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL, owner TEXT, permissions TEXT NOT NULL,"
            " created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT, last_used_at TEXT,"
            " shocker_control TEXT)",
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_owner ON {_TABLE} (owner)",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}"]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        mine = [r for r in records if r.type.startswith("ApiToken.")]
        apply_by_aggregate(self.apply, mine, tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        payload = record.payload
        if record.type == "ApiToken.Issued":
            tx.execute(
                f"INSERT INTO {_TABLE} (id, name, owner, permissions, created_at, expires_at,"
                " shocker_control) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (
                    record.aggregate_id,
                    payload["name"],
                    payload.get("owner"),
                    orjson.dumps(payload["permissions"]).decode(),
                    record.timestamp.isoformat(),
                    payload.get("expires_at"),
                    _control(payload.get("shocker_control")),
                ),
            )
        elif record.type == "ApiToken.Changed":
            tx.execute(
                f"UPDATE {_TABLE} SET name = ?, permissions = ?, shocker_control = ? WHERE id = ?",
                (
                    payload["name"],
                    orjson.dumps(payload["permissions"]).decode(),
                    _control(payload.get("shocker_control")),
                    record.aggregate_id,
                ),
            )
        elif record.type == "ApiToken.PauseChanged":
            tx.execute(
                f"UPDATE {_TABLE} SET shocker_control = ? WHERE id = ?",
                (_control(payload["shocker_control"]), record.aggregate_id),
            )
        elif record.type == "ApiToken.Revoked":
            tx.execute(
                f"UPDATE {_TABLE} SET revoked_at = ? WHERE id = ?",
                (record.timestamp.isoformat(), record.aggregate_id),
            )
        elif record.type == "ApiToken.Used":
            tx.execute(
                f"UPDATE {_TABLE} SET last_used_at = ? WHERE id = ?",
                (record.timestamp.isoformat(), record.aggregate_id),
            )


def list_tokens(tx: ViewTransaction, owner: str | None = None) -> list[ApiTokenRow]:
    columns = (
        "id, name, owner, permissions, created_at, expires_at, revoked_at, last_used_at,"
        " shocker_control"
    )
    if owner is None:
        rows = tx.fetchall(f"SELECT {columns} FROM {_TABLE} ORDER BY created_at")
    else:
        rows = tx.fetchall(
            f"SELECT {columns} FROM {_TABLE} WHERE owner = ? ORDER BY created_at", (owner,)
        )
    return [_row(r) for r in rows]


def _control(stored: dict[str, Any] | None) -> str | None:
    return None if stored is None else orjson.dumps(stored).decode()


def _row(r: tuple[Any, ...]) -> ApiTokenRow:
    control = None if r[8] is None else orjson.loads(r[8])
    return ApiTokenRow(
        str(r[0]), str(r[1]), r[2], orjson.loads(r[3]), str(r[4]), r[5], r[6], r[7], control
    )
