"""The bus's append path on both stores: what it writes eventsourcing reads back (events,
aggregates, notification ids), its records equal the ones read from the log, and a
conflicting version stores nothing of the batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from domain.deviceauth.device_access import DeviceAccess
from domain.thermostats.thermostat import Mode, Thermostat
from infra.store.event_appender import EventAppender
from infra.store.event_store import EventStore
from tests.integration.running import settings_for

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
META: dict[str, Any] = {"actor_id": "ada", "actor_kind": "user", "source_address": None}


def comparable(record: Any) -> tuple[Any, ...]:
    return (
        record.position,
        record.aggregate_id,
        record.version,
        record.type,
        record.timestamp,
        record.payload,
    )


def test_appended_events_read_back_through_eventsourcing(deployment: dict[str, str]) -> None:
    store = EventStore(settings_for(deployment))
    try:
        appender = EventAppender(store.app)
        device = DeviceAccess(device_identifier="APPEND-1", meta=META)
        device.set_public_key("APPEND-1", "KEY", "ed25519", None, META)
        thermostat = Thermostat(serial_number="APPEND-T", owner="ada", name="Hall", meta=META)
        thermostat.change_mode(Mode.HOLD, 1500, AT + timedelta(hours=1), META)
        thermostat.connect("session-1", META)
        head = store.head()
        pending = [*device._pending_events, *thermostat._pending_events]

        records = appender.append([device, thermostat])

        assert not device._pending_events and not thermostat._pending_events
        assert [r.event for r in records] == pending
        notifications = store.app.recorder.select_notifications(
            start=head, limit=10, inclusive_of_start=False
        )
        assert [r.position for r in records] == [n.id for n in notifications]
        assert store.head() == records[-1].position
        for notification, original in zip(notifications, pending, strict=True):
            decoded = store.app.mapper.to_domain_event(notification)
            assert type(decoded) is type(original) and vars(decoded) == vars(original)
        assert store.app.repository.get(device.id) == device
        assert store.app.repository.get(thermostat.id) == thermostat
        assert [comparable(r) for r in records] == [comparable(r) for r in store.read_states(head)]
        read = store.read(head)
        assert [comparable(r) for r in records] == [comparable(r) for r in read]
        assert [type(r.event) for r in records] == [type(r.event) for r in read]
    finally:
        store.close()


def test_a_version_another_writer_stored_fails_the_whole_append(
    deployment: dict[str, str],
) -> None:
    store = EventStore(settings_for(deployment))
    try:
        appender = EventAppender(store.app)
        appender.append([DeviceAccess(device_identifier="TAKEN", meta=META)])
        head = store.head()
        fresh = DeviceAccess(device_identifier="FRESH", meta=META)
        again = DeviceAccess(device_identifier="TAKEN", meta=META)  # version 1 again
        with pytest.raises(IntegrityError):
            appender.append([fresh, again])
        assert store.head() == head
        assert store.app.recorder.select_events(fresh.id) == []
    finally:
        store.close()
