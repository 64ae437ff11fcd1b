"""Login sessions as their user lists them (OpenShock's GET /1/sessions): never the token,
never its hash. Built from the "session" grants' events (domain/identity/token_grant.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.identity.token_grant import SESSION_GRANT_TYPE
from projections.records import LogRecord
from projections.view_store import ViewTransaction, apply_by_aggregate

_TABLE = "view_login_sessions"


@dataclass(frozen=True)
class LoginSessionRow:
    id: str
    subject: str
    address: str
    user_agent: str
    created_at: str
    expires_at: str
    last_used_at: str | None


class LoginSessionView:
    name = "login_sessions"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " id TEXT PRIMARY KEY, subject TEXT NOT NULL, address TEXT NOT NULL,"
            " user_agent TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,"
            " last_used_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_subject ON {_TABLE} (subject)",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}"]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        mine = [r for r in records if r.type.startswith("TokenGrant.")]
        apply_by_aggregate(self.apply, mine, tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        payload = record.payload
        if record.type == "TokenGrant.Started":
            if payload.get("grant_type") != SESSION_GRANT_TYPE:
                return
            tx.execute(
                f"INSERT INTO {_TABLE} (id, subject, address, user_agent, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (
                    record.aggregate_id,
                    payload["subject"],
                    payload.get("address") or "",
                    payload.get("user_agent") or "",
                    record.timestamp.isoformat(),
                    _iso(payload["expires_at"]),
                ),
            )
        elif record.type == "TokenGrant.Extended":
            tx.execute(
                f"UPDATE {_TABLE} SET last_used_at = ?, expires_at = ? WHERE id = ?",
                (
                    _iso(payload["last_used_at"]),
                    _iso(payload["expires_at"]),
                    record.aggregate_id,
                ),
            )
        elif record.type == "TokenGrant.Revoked":
            # A revoked session is gone, as the real backend deletes it.
            tx.execute(f"DELETE FROM {_TABLE} WHERE id = ?", (record.aggregate_id,))


def _iso(value: Any) -> str:
    # Stored with one format whatever the event's, so that text order is time order.
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.isoformat()


def list_sessions(tx: ViewTransaction, subject: str, now: datetime) -> list[LoginSessionRow]:
    """The user's sessions that are neither revoked nor expired at `now`, oldest first."""
    rows = tx.fetchall(
        "SELECT id, subject, address, user_agent, created_at, expires_at, last_used_at"
        f" FROM {_TABLE} WHERE subject = ? ORDER BY created_at",
        (subject,),
    )
    found = [_row(r) for r in rows]
    return [row for row in found if datetime.fromisoformat(row.expires_at) > now]


def get_session(tx: ViewTransaction, session_id: str) -> LoginSessionRow | None:
    rows = tx.fetchall(
        "SELECT id, subject, address, user_agent, created_at, expires_at, last_used_at"
        f" FROM {_TABLE} WHERE id = ?",
        (session_id,),
    )
    return _row(rows[0]) if rows else None


def _row(r: tuple[Any, ...]) -> LoginSessionRow:
    return LoginSessionRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), r[6])
