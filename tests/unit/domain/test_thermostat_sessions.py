"""A thermostat is online while one of its device sessions is live (issue 9, defect 6).

A reconnect race gives a thermostat two sessions at once: closing the older must not take
it offline while the newer one reports.
"""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)

from domain.context import CommandContext
from domain.errors import NotFound
from domain.thermostats.commands import (
    RecordThermostatConnected,
    RecordThermostatDisconnected,
    RegisterThermostat,
    ReportThermostatState,
)
from domain.thermostats.handlers import HANDLERS
from domain.thermostats.thermostat import LEGACY_SESSION, Thermostat, thermostat_id
from tests.unit.fakes import MemoryUnitOfWork

SERIAL = "SENZ-0001"
DEVICE = CommandContext(actor_id=SERIAL, actor_kind="device")
A, B, C = "session-a", "session-b", "session-c"


@pytest.fixture
def uow() -> MemoryUnitOfWork:
    uow = MemoryUnitOfWork(HANDLERS)
    uow.run(RegisterThermostat(serial_number=SERIAL, owner="ada", name="Hall", context=DEVICE))
    thermostat_in(uow).collect_events()
    return uow


def thermostat_in(uow: MemoryUnitOfWork) -> Thermostat:
    found = uow.get(Thermostat, thermostat_id(SERIAL))
    assert found is not None
    return found


def connect(uow: MemoryUnitOfWork, session: str) -> None:
    uow.run(RecordThermostatConnected(serial_number=SERIAL, session_id=session, context=DEVICE))


def disconnect(uow: MemoryUnitOfWork, session: str) -> None:
    uow.run(RecordThermostatDisconnected(serial_number=SERIAL, session_id=session, context=DEVICE))


def report(uow: MemoryUnitOfWork, session: str, temperature: int) -> None:
    uow.run(
        ReportThermostatState(
            serial_number=SERIAL,
            session_id=session,
            current_temperature=temperature,
            is_heating=False,
            context=DEVICE,
        )
    )


def events(uow: MemoryUnitOfWork) -> list[Any]:
    return list(thermostat_in(uow).collect_events())


def test_closing_the_older_of_two_sessions_leaves_the_thermostat_online(
    uow: MemoryUnitOfWork,
) -> None:
    connect(uow, A)
    connect(uow, B)
    disconnect(uow, A)
    assert thermostat_in(uow).online
    report(uow, B, 1900)
    assert thermostat_in(uow).online
    assert thermostat_in(uow).live_sessions == [B]
    disconnect(uow, B)
    assert not thermostat_in(uow).online


def test_events_name_the_session(uow: MemoryUnitOfWork) -> None:
    connect(uow, A)
    connect(uow, B)
    disconnect(uow, A)
    recorded = events(uow)
    assert [type(e).__name__ for e in recorded] == ["Connected", "Connected", "Disconnected"]
    assert [e.session_id for e in recorded] == [A, B, A]
    assert recorded[2].ended == [A]


def test_a_session_that_is_not_live_changes_nothing_when_it_closes(
    uow: MemoryUnitOfWork,
) -> None:
    connect(uow, A)
    connect(uow, B)
    disconnect(uow, A)
    events(uow)
    disconnect(uow, C)  # never connected
    disconnect(uow, A)  # closed twice
    assert events(uow) == []
    assert thermostat_in(uow).live_sessions == [B]


def test_a_session_connected_twice_is_recorded_once(uow: MemoryUnitOfWork) -> None:
    connect(uow, A)
    connect(uow, A)
    assert len(events(uow)) == 1
    disconnect(uow, A)
    assert not thermostat_in(uow).online


def test_closing_the_newest_session_ends_the_older_ones_a_dead_node_cannot_close(
    uow: MemoryUnitOfWork,
) -> None:
    """A's node died: A never sends its disconnect. B's close must still take it offline."""
    connect(uow, A)
    connect(uow, B)
    events(uow)
    disconnect(uow, B)
    (closed,) = events(uow)
    assert closed.ended == [A, B]
    assert not thermostat_in(uow).online


def test_sessions_newer_than_the_one_that_closes_stay_live(uow: MemoryUnitOfWork) -> None:
    connect(uow, A)
    connect(uow, B)
    connect(uow, C)
    disconnect(uow, B)
    assert thermostat_in(uow).live_sessions == [C]


def test_a_superseded_session_that_reports_is_live_again(uow: MemoryUnitOfWork) -> None:
    connect(uow, A)
    connect(uow, B)
    disconnect(uow, B)
    events(uow)
    report(uow, A, 2000)  # the same as last reported: only the session is recorded
    (connected,) = events(uow)
    assert type(connected).__name__ == "Connected"
    assert thermostat_in(uow).live_sessions == [A]
    disconnect(uow, A)
    assert not thermostat_in(uow).online


def test_a_live_session_that_reports_records_only_the_report(uow: MemoryUnitOfWork) -> None:
    connect(uow, A)
    events(uow)
    report(uow, A, 1900)
    assert [type(e).__name__ for e in events(uow)] == ["Reported"]


def test_an_unknown_thermostat_is_not_found(uow: MemoryUnitOfWork) -> None:
    with pytest.raises(NotFound):
        uow.run(RecordThermostatConnected(serial_number="NOPE-1", session_id=A, context=DEVICE))


# Stored before sessions had ids: Connected and Disconnected without a session, and a
# snapshot with an `online` flag. They load through eventsourcing's upcasting.


def mapper() -> Mapper[Any]:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def as_version_1(codec: Mapper[Any], stored: StoredEvent, *dropped: str) -> StoredEvent:
    """The stored event as the code before sessions wrote it."""
    state = codec.transcoder.decode(stored.state)
    for key in ("class_version", *dropped):
        state.pop(key, None)
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=codec.transcoder.encode(state),
    )


def test_events_stored_without_a_session_replay() -> None:
    registered = Thermostat(serial_number="OLD-1", owner="ada", name="Old", meta={})
    registered.connect(A, {})
    registered.disconnect(A, {})
    registered.connect(B, {})
    codec = mapper()
    stored = [codec.to_stored_event(e) for e in registered.collect_events()]
    old = [stored[0], *(as_version_1(codec, s, "session_id", "ended") for s in stored[1:])]
    replayed: list[Any] = [codec.to_domain_event(s) for s in old]
    assert [e.session_id for e in replayed[1:]] == [LEGACY_SESSION] * 3
    aggregate: Any = None
    for domain_event in replayed:
        aggregate = domain_event.mutate(aggregate)
    assert aggregate.online and aggregate.live_sessions == [LEGACY_SESSION]
    # The device reconnects after the upgrade; when that session closes, it is offline.
    aggregate.connect(C, {})
    aggregate.disconnect(C, {})
    assert not aggregate.online


@pytest.mark.parametrize("online", [True, False])
def test_a_snapshot_with_the_online_flag_loads(online: bool) -> None:
    thermostat = Thermostat(serial_number="OLD-2", owner="ada", name="Old", meta={})
    snapshot = Snapshot.take(thermostat)
    state = dict(snapshot.state)
    state.pop("class_version")
    state.pop("live_sessions")
    state["online"] = online
    old = Snapshot(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=state,
    )
    loaded: Any = old.mutate(None)
    assert loaded.online is online
    assert loaded.live_sessions == ([LEGACY_SESSION] if online else [])
