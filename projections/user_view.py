"""Users as administrators list them: never a password hash."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from projections.records import LogRecord
from projections.view_store import ViewTransaction, apply_by_aggregate

_TABLE = "view_users"


@dataclass(frozen=True)
class UserRow:
    subject: str
    email: str
    name: str
    roles: list[str]
    created_at: str
    locked_until: str | None
    last_login_at: str | None


class UserView:
    name = "users"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " subject TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
            " roles TEXT NOT NULL, created_at TEXT NOT NULL, locked_until TEXT,"
            " last_login_at TEXT)"
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}"]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        mine = [r for r in records if r.type.startswith("User.")]
        apply_by_aggregate(self.apply, mine, tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        payload = record.payload
        if record.type == "User.Registered":
            tx.execute(
                f"INSERT INTO {_TABLE} (subject, email, name, roles, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject) DO NOTHING",
                (
                    record.aggregate_id,
                    payload["email"],
                    payload["name"],
                    orjson.dumps(payload["roles"]).decode(),
                    record.timestamp.isoformat(),
                ),
            )
        elif record.type == "User.SettingsChanged":
            tx.execute(
                f"UPDATE {_TABLE} SET name = ? WHERE subject = ?",
                (payload["name"], record.aggregate_id),
            )
        elif record.type == "User.LockedOut":
            tx.execute(
                f"UPDATE {_TABLE} SET locked_until = ? WHERE subject = ?",
                (payload["until"], record.aggregate_id),
            )
        elif record.type == "User.LoginSucceeded":
            tx.execute(
                f"UPDATE {_TABLE} SET last_login_at = ? WHERE subject = ?",
                (record.timestamp.isoformat(), record.aggregate_id),
            )


def list_users(tx: ViewTransaction) -> list[UserRow]:
    rows = tx.fetchall(
        "SELECT subject, email, name, roles, created_at, locked_until, last_login_at"
        f" FROM {_TABLE} ORDER BY email"
    )
    return [_row(r) for r in rows]


def users_by_subject(tx: ViewTransaction, subjects: Iterable[str]) -> dict[str, UserRow]:
    """The named users that exist, by subject (other views show users without copying them)."""
    wanted = sorted(set(subjects))
    found: dict[str, UserRow] = {}
    # Bounded IN lists: every database takes a few hundred parameters.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = tx.fetchall(
            "SELECT subject, email, name, roles, created_at, locked_until, last_login_at"
            f" FROM {_TABLE} WHERE subject IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        found.update((str(r[0]), _row(r)) for r in rows)
    return found


def _row(r: tuple[Any, ...]) -> UserRow:
    return UserRow(str(r[0]), str(r[1]), str(r[2]), orjson.loads(r[3]), str(r[4]), r[5], r[6])
