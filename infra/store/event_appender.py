"""The command bus's append: a batch's pending events into the log in one transaction, in
eventsourcing's stored format, without its per-event objects.

`Application.save` checks each object it is given against runtime Protocols (a slow
isinstance), builds a StoredEvent, a Notification and a Recording per event, calls the
transcoder's default hook for every event's timestamp, and eventsourcing's SQLite recorder
runs one INSERT per event to learn each rowid. The bus holds aggregates and needs only the
positions, so this encodes the events as eventsourcing's Mapper does (the same topic, the
same JSON bytes, the class_version key on the same terms) and inserts them with one
statement. What it writes is read back by eventsourcing's mapper unchanged
(tests/unit/infra/test_event_appender.py compares the bytes for every event class).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic, retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from infra.store.event_store import HublineApplication, record_from_state
from projections.records import LogRecord

# (originator id, version, topic, stored state), as eventsourcing's recorders store them.
Row = tuple[UUID, int, str, bytes]


class EventAppender:
    def __init__(self, app: HublineApplication) -> None:
        mapper = app.mapper
        if mapper.cipher is not None or mapper.compressor is not None:
            # The bytes would differ from what this writes; our application sets neither.
            raise ValueError("the event appender writes neither compressed nor encrypted state")
        self._recorder = app.recorder
        self._encode = mapper.transcoder.encode
        # Every event has a timestamp: wrapping it here, as the transcoder's hook would,
        # saves a call back from orjson into Python per event. Nested values still go
        # through the hook.
        transcoding = getattr(mapper.transcoder, "types", {}).get(datetime)
        self._timestamp_type = transcoding.name if isinstance(transcoding, DatetimeAsISO) else None
        self._classes: dict[type, tuple[str, int]] = {}
        self._postgres_statement: Composed | None = None

    def append(self, aggregates: Sequence[Aggregate]) -> list[LogRecord]:
        """Take the aggregates' pending events and store them, all or none; the records of
        what was stored, in log order. Raises eventsourcing's IntegrityError (and stores
        nothing) if another writer already stored one of these versions."""
        events: list[Any] = []
        ids: list[str] = []  # each event's aggregate id as text, made once per aggregate
        for aggregate in aggregates:
            collected = aggregate.collect_events()
            events.extend(collected)
            ids.extend([str(aggregate.id)] * len(collected))
        if not events:
            return []
        rows = [self._row(e) for e in events]
        positions = self._insert(rows)
        return [
            record_from_state(position, text_id, version, topic, state, event)
            for position, text_id, (_, version, topic, state), event in zip(
                positions, ids, rows, events, strict=True
            )
        ]

    def _row(self, event: Any) -> Row:
        cls = type(event)
        known = self._classes.get(cls)
        if known is None:
            known = self._classes[cls] = (get_topic(cls), int(getattr(cls, "class_version", 1)))
        topic, class_version = known
        # As Mapper.to_stored_event: the event's fields in their order, less the ids.
        state = dict(vars(event))
        originator_id = state.pop("originator_id")
        version = state.pop("originator_version")
        timestamp = state.get("timestamp")
        if self._timestamp_type is not None and type(timestamp) is datetime:
            state["timestamp"] = {"_type_": self._timestamp_type, "_data_": timestamp.isoformat()}
        if class_version > 1:
            state["class_version"] = class_version
        return originator_id, version, topic, self._encode(state)

    def _insert(self, rows: list[Row]) -> Sequence[int]:
        recorder: Any = self._recorder
        if isinstance(recorder, SQLiteApplicationRecorder):
            params = [
                (oid.hex if isinstance(oid, UUID) else oid, version, topic, state)
                for oid, version, topic, state in rows
            ]
            # eventsourcing's transaction: BEGIN, and its errors (IntegrityError) on the way out.
            with recorder.datastore.transaction(commit=True) as cursor:
                cursor.executemany(recorder.insert_events_statement, params)
                cursor.execute("SELECT last_insert_rowid()")
                last = int(cursor.fetchone()[0])
            # A new row's rowid is one more than the table's largest, and this transaction
            # held the one write lock from its first insert: its rows are consecutive.
            return range(last - len(rows) + 1, last + 1)
        if isinstance(recorder, PostgresApplicationRecorder):
            inserted: list[int] = self._insert_postgres(recorder, rows)
            return inserted
        positions = recorder.insert_events(
            [
                StoredEvent(originator_id=oid, originator_version=version, topic=topic, state=state)
                for oid, version, topic, state in rows
            ]
        )
        if positions is None or len(positions) != len(rows):
            raise RuntimeError("the recorder did not return a position for each event")
        return list(positions)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_postgres(self, recorder: PostgresApplicationRecorder, rows: list[Row]) -> list[int]:
        """eventsourcing's insert (its table lock, so that positions are handed out in commit
        order; its NOTIFY; one statement; retried as it retries), with the rows sent as four
        arrays in binary instead of one array of its composite type in text, whose escaping
        in Python cost ~20 µs an event."""
        statement = self._postgres_insert(recorder)
        columns = [list(column) for column in zip(*rows, strict=True)]
        failed: Exception | None = None
        positions: list[int] = []
        with recorder.datastore.get_connection() as conn:
            with (
                conn.pipeline() as pipeline,
                conn.transaction(),
                conn.cursor(row_factory=tuple_row) as cursor,
            ):
                try:
                    for lock in recorder.lock_table_statements:
                        cursor.execute(lock, prepare=True)
                    cursor.execute(SQL("NOTIFY {0}").format(Identifier(recorder.channel_name)))
                    cursor.execute(statement, columns, prepare=True)
                    # Now, so that a duplicate version raises IntegrityError here.
                    pipeline.sync()
                    positions = [row[0] for row in cursor.fetchall()]
                except Exception as exc:
                    # Raised once the pipeline is closed, as eventsourcing does.
                    failed = exc
            if failed is not None:
                raise failed
        if len(positions) != len(rows):
            raise RuntimeError("the store did not return a position for each event")
        return positions

    def _postgres_insert(self, recorder: PostgresApplicationRecorder) -> Composed:
        if self._postgres_statement is None:
            datastore = recorder.datastore
            self._postgres_statement = SQL(
                "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
                " SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
                " RETURNING notification_id"
            ).format(
                schema=Identifier(datastore.schema),
                table=Identifier(recorder.events_table_name),
                id_type=Identifier(datastore.originator_id_type),
            )
        return self._postgres_statement
