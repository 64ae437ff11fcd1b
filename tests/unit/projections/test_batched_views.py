"""Views applied a batch at a time end where applying one record at a time ends, and the
statements of a batch are grouped without reordering any aggregate's own."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from domain.deviceauth.device_access import DeviceAccess
from domain.thermostats.thermostat import Thermostat
from infra.store.event_store import record_from_event
from infra.store.projection_runner import _unseen
from projections.audit_view import AuditView, _utc_text
from projections.device_access_view import DeviceAccessView
from projections.records import LogRecord
from projections.thermostat_view import ThermostatView
from projections.view_store import Projection, ViewTransaction, apply_by_aggregate

META: dict[str, Any] = {"actor_id": "ada", "actor_kind": "user"}


class SqliteTransaction:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self.calls: list[tuple[str, int]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.calls.append((sql, 1))
        self._connection.execute(sql, tuple(params))

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        self.calls.append((sql, len(params)))
        self._connection.executemany(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._connection.execute(sql, tuple(params)).fetchall())


def interleaved_records() -> list[LogRecord]:
    """Two devices and two thermostats, their events interleaved as concurrent commands
    store them."""
    devices = [DeviceAccess(device_identifier=f"DEV-{n}", meta=META) for n in range(2)]
    thermostats = [
        Thermostat(serial_number=f"S-{n}", owner="ada", name="Hall", meta=META) for n in range(2)
    ]
    for n, device in enumerate(devices):
        device.set_public_key(f"DEV-{n}", f"KEY-{n}", None, None, META)
    devices[0].pass_challenge("DEV-0", "KEY-0", META)
    devices[1].clear_public_key("DEV-1", META)
    for thermostat in thermostats:
        thermostat.connect("s1", META)
        thermostat.connect("s2", META)
        thermostat.disconnect("s1", META)
    thermostats[1].disconnect("s2", META)
    streams = [list(a.collect_events()) for a in (*devices, *thermostats)]
    events = []
    while any(streams):
        for stream in streams:
            if stream:
                events.append(stream.pop(0))
    return [
        record_from_event(position, event, get_topic(type(event)))
        for position, event in enumerate(events, start=1)
    ]


def table_rows(connection: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    tables = [
        str(r[0]) for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    return {t: sorted(connection.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}


def applied(projection: Projection, records: list[LogRecord], batched: bool) -> Any:
    connection = sqlite3.connect(":memory:")
    tx = SqliteTransaction(connection)
    for statement in projection.create_statements():
        connection.execute(statement)
    if batched:
        projection.apply_batch(records, tx)  # type: ignore[attr-defined]
    else:
        for record in records:
            projection.apply(record, tx)
    return table_rows(connection), tx.calls


@pytest.mark.parametrize("projection", [DeviceAccessView(), ThermostatView(), AuditView()])
def test_a_batch_ends_where_one_record_at_a_time_ends(projection: Projection) -> None:
    records = interleaved_records()
    one_by_one, _ = applied(projection, records, batched=False)
    batched, calls = applied(projection, records, batched=True)
    assert batched == one_by_one
    assert any(rows for rows in one_by_one.values())
    assert len(calls) < len(records)


def test_statements_are_grouped_by_sql_each_aggregate_in_its_order() -> None:
    sent: list[tuple[str, list[Any]]] = []

    class Recorder:
        def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
            raise AssertionError("sent one by one")

        def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
            sent.append((sql, [p[0] for p in params]))

        def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
            raise AssertionError("read")

    def apply(record: LogRecord, tx: ViewTransaction) -> None:
        tx.execute(record.type, (record.position,))

    def record(position: int, aggregate_id: str, kind: str) -> LogRecord:
        return LogRecord(position, aggregate_id, 1, kind, datetime.now(UTC), None, {})

    records = [
        record(1, "a", "insert"),
        record(2, "b", "insert"),
        record(3, "a", "update"),
        record(4, "a", "update"),
        record(5, "b", "update"),
        record(6, "c", "update"),
    ]
    apply_by_aggregate(apply, records, Recorder())
    # Every aggregate's first statement, then every second one, ...
    assert sent == [("insert", [1, 2]), ("update", [6]), ("update", [3, 5]), ("update", [4])]
    # Each aggregate's statements come in its own order.
    order = [position for _, positions in sent for position in positions]
    for aggregate in ("a", "b", "c"):
        mine = [r.position for r in records if r.aggregate_id == aggregate]
        assert [p for p in order if p in mine] == mine


def test_a_view_applied_by_aggregate_cannot_read_while_it_applies() -> None:
    def reads(record: LogRecord, tx: ViewTransaction) -> None:
        tx.fetchall("SELECT 1")

    connection = sqlite3.connect(":memory:")
    record = LogRecord(1, "a", 1, "x", datetime.now(UTC), None, {})
    with pytest.raises(TypeError):
        apply_by_aggregate(reads, [record], SqliteTransaction(connection))


def test_positions_sent_twice_in_a_partition_are_taken_once() -> None:
    def record(position: int, partition: int = 0) -> LogRecord:
        return LogRecord(position, "a", 1, "x", datetime.now(UTC), None, {}, partition)

    # The relay re-sent 5-7 after a crash; partition 1 is behind partition 0.
    records = [record(p) for p in (3, 5, 6, 7, 5, 6, 7, 8)] + [record(2, 1), record(4, 1)]
    unseen = _unseen(records, {0: 4, 1: 2})
    assert [(r.partition, r.position) for r in unseen.records] == [
        (0, 5),
        (0, 6),
        (0, 7),
        (0, 8),
        (1, 4),
    ]
    assert unseen.reached == {0: 8, 1: 4}
    assert _unseen(records[:1], {0: 4}) == ([], {})


def test_audit_time_text_is_utc_whatever_the_offset() -> None:
    moment = datetime(2026, 11, 26, 12, 0, 0, 120000, tzinfo=UTC)
    assert _utc_text(moment) == "2026-11-26T12:00:00.120000Z"
    assert _utc_text(moment.astimezone(timezone(timedelta(hours=2)))) == _utc_text(moment)
    assert _utc_text(moment.replace(tzinfo=None)) == "2026-11-26T12:00:00.120000Z"
    assert _utc_text(moment.replace(microsecond=0)) == "2026-11-26T12:00:00.000000Z"


def test_a_log_record_is_immutable_and_built_by_keyword_or_position() -> None:
    at = datetime.now(UTC)
    by_keyword = LogRecord(
        position=1,
        aggregate_id="a",
        version=2,
        type="T.X",
        timestamp=at,
        event=None,
        payload={"meta": {"actor_id": "ada"}},
    )
    assert by_keyword == LogRecord(1, "a", 2, "T.X", at, None, {"meta": {"actor_id": "ada"}})
    assert by_keyword.partition == 0 and by_keyword.meta == {"actor_id": "ada"}
    with pytest.raises(AttributeError):
        by_keyword.position = 2  # type: ignore[misc]
