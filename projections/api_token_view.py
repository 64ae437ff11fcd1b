"""API tokens as an owner lists them: never the token, never its hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from projections.records import LogRecord
from projections.view_store import ViewTransaction

_TABLE = "view_api_tokens"


@dataclass(frozen=True)
class ApiTokenRow:
    id: str
    name: str
    permissions: list[str]
    created_at: str
    expires_at: str | None
    revoked_at: str | None


class ApiTokenView:
    name = "api_tokens"

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL, permissions TEXT NOT NULL,"
            " created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT)"
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}"]

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        if record.type == "ApiToken.Issued":
            payload = record.payload
            tx.execute(
                f"INSERT INTO {_TABLE} (id, name, permissions, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (
                    record.aggregate_id,
                    payload["name"],
                    orjson.dumps(payload["permissions"]).decode(),
                    record.timestamp.isoformat(),
                    payload.get("expires_at"),
                ),
            )
        elif record.type == "ApiToken.Revoked":
            tx.execute(
                f"UPDATE {_TABLE} SET revoked_at = ? WHERE id = ?",
                (record.timestamp.isoformat(), record.aggregate_id),
            )


def list_tokens(tx: ViewTransaction) -> list[ApiTokenRow]:
    rows = tx.fetchall(
        f"SELECT id, name, permissions, created_at, expires_at, revoked_at FROM {_TABLE}"
        " ORDER BY created_at"
    )
    return [_row(r) for r in rows]


def _row(r: tuple[Any, ...]) -> ApiTokenRow:
    return ApiTokenRow(str(r[0]), str(r[1]), orjson.loads(r[2]), str(r[3]), r[4], r[5])
