"""The event store: eventsourcing's Application on SQLite or PostgreSQL, with orjson."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import unquote, urlparse
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Notification,
    UUIDAsHex,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import Environment, resolve_topic
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from infra.settings import Settings
from infra.store.schema_lock import schema_lock
from projections.records import LogRecord

_EVENT_FIELDS_NOT_IN_PAYLOAD = ("originator_id", "originator_version", "timestamp")


class OrjsonTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, with orjson doing the byte work (several times faster).

    orjson writes UUIDs itself, as plain strings, so a UUID in an event field comes back
    as a str: events keep ids as strings (the aggregate's own id is handled by the mapper).
    """

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(
            obj,
            default=self._encode_obj,
            option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS,
        )

    def decode(self, data: bytes) -> Any:
        return self._revive(orjson.loads(data))

    def _revive(self, value: Any) -> Any:
        if isinstance(value, dict):
            revived = {k: self._revive(v) for k, v in value.items()}
            return self._decode_obj(revived)
        if isinstance(value, list):
            return [self._revive(v) for v in value]
        return value


class HublineApplication(Application[UUID]):
    """One application, so that every event of every surface shares one ordered log."""

    name = "Hubline"

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # The settings object is the one reader of the environment; eventsourcing
        # would otherwise merge os.environ in here.
        return Environment(name, dict(env or {}))

    def construct_transcoder(self) -> JSONTranscoder:
        transcoder = OrjsonTranscoder()
        transcoder.register(UUIDAsHex())
        transcoder.register(DecimalAsStr())
        transcoder.register(DatetimeAsISO())
        return transcoder


def persistence_environment(settings: Settings) -> dict[str, str]:
    # A snapshot store beside the events (infra/store/snapshots.py decides when to write one),
    # and an LRU cache of aggregates fast-forwarded from the store: a load reads the events
    # since, instead of replaying a long-lived thermostat's whole history.
    options = {"IS_SNAPSHOTTING_ENABLED": "y"}
    if settings.aggregate_cache_size > 0:
        options["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache_size)
    if settings.database is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return options | {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    url = urlparse(settings.database)
    return options | {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "hubline",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "hubline"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_POOL_SIZE": "8",
        "POSTGRES_MAX_OVERFLOW": "8",
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "10",
    }


class EventStore:
    """Appends go through the command bus; this is the read side of the store: the log."""

    def __init__(self, settings: Settings) -> None:
        with schema_lock(settings.database):
            self.app = HublineApplication(env=persistence_environment(settings))

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def read(self, after: int, limit: int = 500, stop: int | None = None) -> list[LogRecord]:
        notifications: Sequence[Notification] = self.app.recorder.select_notifications(
            start=after, limit=limit, stop=stop, inclusive_of_start=False
        )
        return [self.decode(n) for n in notifications]

    def read_states(self, after: int, limit: int = 500) -> list[LogRecord]:
        """The log for readers of the stored state only (the views): no domain event objects
        (`event` is None), which is most of a rebuild's decoding time."""
        rows = self._read_rows(after, limit)
        return [record_from_state(p, o, v, t, s) for p, o, v, t, s in rows]

    def _read_rows(self, after: int, limit: int) -> list[tuple[int, str, int, str, bytes]]:
        """(position, dashed originator id, version, topic, state) after `after`: plain rows,
        since eventsourcing's Notification objects and the originator id's round trip through
        UUID cost more than the rest of the read."""
        recorder: ApplicationRecorder = self.app.recorder
        if isinstance(recorder, SQLiteApplicationRecorder):
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    "SELECT rowid, originator_id, originator_version, topic, state"
                    f" FROM {recorder.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    (after, limit),
                )
                return [(p, _dashed(o), v, t, s) for p, o, v, t, s in cursor.fetchall()]
        if isinstance(recorder, PostgresApplicationRecorder):
            # The same query as eventsourcing's select_notifications, so the same order and
            # visibility; the id as text from the server.
            query = SQL(
                "SELECT notification_id, originator_id::text, originator_version, topic, state"
                " FROM {schema}.{table} WHERE notification_id > %s"
                " ORDER BY notification_id LIMIT %s"
            ).format(
                schema=Identifier(recorder.datastore.schema),
                table=Identifier(recorder.events_table_name),
            )
            with (
                recorder.datastore.get_connection() as conn,
                conn.transaction(force_rollback=True),
                conn.cursor(row_factory=tuple_row) as pg_cursor,
            ):
                pg_cursor.execute(query, (after, limit), prepare=True)
                return [(p, o, v, t, bytes(s)) for p, o, v, t, s in pg_cursor.fetchall()]
        notifications = recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        return [
            (n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
            for n in notifications
        ]

    def decode(self, notification: Notification, partition: int = 0) -> LogRecord:
        event = self.app.mapper.to_domain_event(notification)
        return record_from_event(notification.id, event, notification.topic, partition)

    def close(self) -> None:
        self.app.close()


def record_from_event(position: int, event: Any, topic: str, partition: int = 0) -> LogRecord:
    state = {k: v for k, v in vars(event).items() if k not in _EVENT_FIELDS_NOT_IN_PAYLOAD}
    timestamp: datetime = event.timestamp
    return LogRecord(
        position=position,
        aggregate_id=str(event.originator_id),
        version=int(event.originator_version),
        type=topic.rsplit(":", 1)[-1],
        timestamp=timestamp,
        event=event,
        payload=orjson.loads(orjson.dumps(state)),
        partition=partition,
    )


def record_from_state(
    position: int,
    originator_id: UUID | str,
    version: int,
    topic: str,
    stored: bytes,
    event: Any = None,
    partition: int = 0,
) -> LogRecord:
    """The record `record_from_event` makes, read straight from the stored JSON: the same
    payload (UUIDs as dashed text, datetimes as ISO text, as orjson writes them). `event`:
    the domain event, when the caller (the append) holds it."""
    state: dict[str, Any] = orjson.loads(stored)
    kind = _KINDS.get(topic) or _kind(topic)
    if "class_version" in state or kind.class_version != 1:
        _upcast(topic, state)
    if stored.count(b'"_type_"') == 1:
        # The timestamp is the one typed value (an escaped "_type_" in a string can't match).
        timestamp = state.pop("timestamp")["_data_"]
    else:
        for key, value in state.items():
            if isinstance(value, dict | list):
                state[key] = _json_ready(value)
        timestamp = state.pop("timestamp")
    return LogRecord(
        position,
        originator_id if type(originator_id) is str else str(originator_id),
        version,
        kind.short_type,
        datetime.fromisoformat(timestamp),
        event,
        state,
        partition,
    )


def _dashed(stored_id: str) -> str:
    # eventsourcing's SQLite recorder keeps a UUID as its 32 hex digits.
    if len(stored_id) != 32:
        return str(UUID(stored_id))
    h = stored_id
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Kind(NamedTuple):
    """What a record needs of its event class, found once per topic."""

    short_type: str
    cls: type
    class_version: int


_KINDS: dict[str, _Kind] = {}


def _kind(topic: str) -> _Kind:
    cls = resolve_topic(topic)
    kind = _Kind(topic.rsplit(":", 1)[-1], cls, int(getattr(cls, "class_version", 1)))
    _KINDS[topic] = kind
    return kind


def _upcast(topic: str, state: dict[str, Any]) -> None:
    # As eventsourcing's mapper does before it builds the event object.
    kind = _KINDS.get(topic) or _kind(topic)
    from_version = state.pop("class_version", 1)
    while from_version < kind.class_version:
        getattr(kind.cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1


def _json_ready(value: Any) -> Any:
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 2 and "_type_" in value and "_data_" in value:
        kind, data = value["_type_"], value["_data_"]
        if kind == "uuid_hex":
            return str(UUID(data))
        if kind in ("datetime_iso", "decimal_str"):
            # orjson writes a datetime as its isoformat() text, which is what is stored.
            return data
        raise ValueError(f"stored value of unknown type {kind!r}")
    return {k: _json_ready(v) for k, v in value.items()}
