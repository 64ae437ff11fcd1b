"""The thermostat view shows online while a device session is live, rebuilt the same from 0."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic

from domain.thermostats.thermostat import Thermostat
from infra.store.event_store import record_from_event
from projections.records import LogRecord
from projections.thermostat_view import ThermostatView, thermostat_of

OWNER, SERIAL = "ada", "SENZ-0001"


class SqliteTransaction:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._connection.execute(sql, tuple(params))

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._connection.execute(sql, tuple(params)).fetchall())


def records_of(thermostat: Thermostat) -> list[LogRecord]:
    return [
        record_from_event(n, e, get_topic(type(e)))
        for n, e in enumerate(thermostat.collect_events(), start=1)
    ]


def online_after(records: Sequence[LogRecord]) -> bool:
    view = ThermostatView()
    connection = sqlite3.connect(":memory:")
    tx = SqliteTransaction(connection)
    for statement in view.create_statements():
        tx.execute(statement)
    for record in records:
        view.apply(record, tx)
    row = thermostat_of(tx, OWNER, SERIAL)
    assert row is not None
    return row.online


def test_closing_the_older_of_two_sessions_leaves_the_view_online() -> None:
    thermostat = Thermostat(serial_number=SERIAL, owner=OWNER, name="Hall", meta={})
    thermostat.connect("a", {})
    thermostat.connect("b", {})
    thermostat.disconnect("a", {})
    records = records_of(thermostat)
    assert online_after(records)
    thermostat.disconnect("b", {})
    records += records_of(thermostat)
    assert not online_after(records)


def test_sessions_ended_by_a_newer_close_are_offline_in_the_view() -> None:
    thermostat = Thermostat(serial_number=SERIAL, owner=OWNER, name="Hall", meta={})
    thermostat.connect("dead-node", {})
    thermostat.connect("b", {})
    thermostat.disconnect("b", {})
    assert not online_after(records_of(thermostat))
