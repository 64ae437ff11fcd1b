"""The newest stored version of many aggregates in one read: the command bus's check that
the versions it decided on are still the newest, instead of one read per aggregate."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from eventsourcing.sqlite import SQLiteAggregateRecorder
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
        ids = [i.hex for i in aggregate_ids]
        newest: dict[UUID, int] = {}
        with recorder.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), _SQLITE_CHUNK):
                chunk = ids[start : start + _SQLITE_CHUNK]
                cursor.execute(
                    f"SELECT originator_id, MAX(originator_version) AS version FROM {table} "
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))}) "
                    "GROUP BY originator_id",
                    chunk,
                )
                newest.update(
                    (UUID(r["originator_id"]), int(r["version"])) for r in cursor.fetchall()
                )
        return newest
    statement = SQL(
        "SELECT originator_id, MAX(originator_version) AS version FROM {schema}.{table} "
        "WHERE originator_id = ANY(%s) GROUP BY originator_id"
    ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(table))
    with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(statement, [list(aggregate_ids)])
        return {UUID(str(r["originator_id"])): int(r["version"]) for r in cursor.fetchall()}
