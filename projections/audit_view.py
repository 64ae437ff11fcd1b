"""An index of the log for auditors: filter by aggregate, type and time, page by position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from projections.records import LogRecord
from projections.view_store import ViewTransaction

_TABLE = "view_audit_events"
# Secondary indexes for the filters, by name suffix: the columns each one covers.
_INDEXES = {
    "aggregate": "aggregate_id, position",
    "type": "event_type, position",
    "time": "recorded_at",
}

# Fields that are credentials or derived from them; an auditor sees that they exist, not what.
REDACTED_FIELDS = frozenset(
    {"token_hash", "sealed_token", "secret", "secret_hash", "password", "password_hash"}
)


@dataclass(frozen=True)
class AuditFilter:
    after: int = 0
    limit: int = 100
    aggregate_id: str | None = None
    event_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditView:
    name = "audit"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " position BIGINT PRIMARY KEY, recorded_at TEXT NOT NULL, event_type TEXT NOT NULL,"
            " aggregate_id TEXT NOT NULL, aggregate_version INTEGER NOT NULL,"
            " actor_id TEXT, actor_kind TEXT, payload TEXT NOT NULL)",
            *self.index_statements(),
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}"]

    def index_statements(self) -> list[str]:
        # Maintaining these costs more than the insert itself: a long catch-up drops them
        # and builds them once at the head (see ProjectionRunner.catch_up).
        return [
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_{name} ON {_TABLE} ({columns})"
            for name, columns in _INDEXES.items()
        ]

    def drop_index_statements(self) -> list[str]:
        return [f"DROP INDEX IF EXISTS {_TABLE}_{name}" for name in _INDEXES]

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        tx.execute(_INSERT, _row(record))

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        tx.executemany(_INSERT, [_row(record) for record in records])


_INSERT = (
    f"INSERT INTO {_TABLE} (position, recorded_at, event_type, aggregate_id,"
    " aggregate_version, actor_id, actor_kind, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (position) DO NOTHING"
)


def _row(record: LogRecord) -> tuple[Any, ...]:
    payload = record.payload
    meta = payload.get("meta")
    if not isinstance(meta, dict):
        meta = {}
    return (
        record.position,
        _utc_text(record.timestamp),
        record.type,
        record.aggregate_id,
        record.version,
        meta.get("actor_id"),
        meta.get("actor_kind"),
        orjson.dumps(redact(payload)).decode(),
    )


def redact(payload: dict[str, Any]) -> dict[str, Any]:
    if "originator_topic" not in payload and REDACTED_FIELDS.isdisjoint(payload):
        return payload
    return {
        key: "[redacted]" if key in REDACTED_FIELDS else value
        for key, value in payload.items()
        if key != "originator_topic"
    }


def _utc_text(moment: datetime) -> str:
    # Fixed-width UTC text sorts as time does, so range filters work on both databases.
    # isoformat is several times cheaper than strftime; the same text for years 1000-9999.
    if moment.tzinfo is not None and moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def query_audit(tx: ViewTransaction, where: AuditFilter) -> list[dict[str, Any]]:
    clauses = ["position > ?"]
    params: list[Any] = [where.after]
    if where.aggregate_id:
        clauses.append("aggregate_id = ?")
        params.append(where.aggregate_id)
    if where.event_type:
        clauses.append("event_type = ?")
        params.append(where.event_type)
    if where.since:
        clauses.append("recorded_at >= ?")
        params.append(_utc_text(where.since))
    if where.until:
        clauses.append("recorded_at < ?")
        params.append(_utc_text(where.until))
    params.append(where.limit)
    rows = tx.fetchall(
        "SELECT position, recorded_at, event_type, aggregate_id, aggregate_version,"
        f" payload FROM {_TABLE} WHERE {' AND '.join(clauses)} ORDER BY position LIMIT ?",
        params,
    )
    items = []
    for r in rows:
        payload = orjson.loads(r[5])
        items.append(
            {
                "position": int(r[0]),
                "timestamp": r[1],
                "type": r[2],
                "aggregateId": r[3],
                "aggregateVersion": int(r[4]),
                "actor": payload.pop("meta", {}),
                "payload": payload,
            }
        )
    return items
