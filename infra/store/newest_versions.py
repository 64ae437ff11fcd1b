"""The newest stored version of many aggregates in one read: the command bus's check that
the versions it decided on are still the newest, instead of one read per aggregate."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from infra.store.event_store import HublineApplication

# SQLite caps the parameters bound to one statement (32,766 since 3.32, 999 before).
_SQLITE_CHUNK = 900


def newest_versions(app: HublineApplication, aggregate_ids: Collection[UUID]) -> dict[UUID, int]:
    """The newest stored version of each of these aggregates, in one read (absent: none stored)."""
    if not aggregate_ids:
        return {}
    recorder: Any = app.recorder
    table = recorder.events_table_name
    if isinstance(recorder, SQLiteAggregateRecorder):
        # Stored as 32 hex digits: matched back by text, without parsing a UUID per row.
        by_hex = {i.hex: i for i in aggregate_ids}
        ids = list(by_hex)
        newest: dict[UUID, int] = {}
        with recorder.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), _SQLITE_CHUNK):
                chunk = ids[start : start + _SQLITE_CHUNK]
                cursor.execute(
                    f"SELECT originator_id, MAX(originator_version) FROM {table} "
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))}) "
                    "GROUP BY originator_id",
                    chunk,
                )
                newest.update((by_hex[i], v) for i, v in cursor.fetchall())
        return newest
    statement = SQL(
        "SELECT originator_id, MAX(originator_version) FROM {schema}.{table} "
        "WHERE originator_id = ANY(%s) GROUP BY originator_id"
    ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(table))
    with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(statement, [list(aggregate_ids)], prepare=True)
        return {i if isinstance(i, UUID) else UUID(str(i)): int(v) for i, v in cursor.fetchall()}
