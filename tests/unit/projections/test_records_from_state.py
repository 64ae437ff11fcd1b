"""The views' records, read straight from the stored JSON, equal the ones decoded through
eventsourcing's domain event objects: the same payload, timestamp, type and ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent

from domain.deviceauth.device_access import DeviceAccess
from domain.identity.user import User
from domain.principals.api_token import ApiToken
from domain.thermostats.thermostat import Thermostat
from infra.store.event_store import HublineApplication, record_from_event, record_from_state

META: dict[str, Any] = {"actor_id": "ada", "actor_kind": "user", "source_address": None}
AT = datetime(2026, 11, 26, 12, 0, 0, 120000, tzinfo=UTC)


def events() -> list[Any]:
    device = DeviceAccess(device_identifier='DEV-"_type_"-1', meta=META)
    device.set_public_key('DEV-"_type_"-1', "KEY", None, None, META)
    device.refuse_connection('DEV-"_type_"-1', "bad signature", None, META)
    user = User(email="a@b.c", name="Ada", password_hash="h", roles=["admin"], meta=META)
    user.record_failed_login("wrong", AT, None, META)
    user.grant_consent("client", ["openid"], META)
    token = ApiToken(
        name="t", token_hash="x", permissions=["a:b"], expires_at=AT + timedelta(days=1), meta=META
    )
    token.record_use(AT, META)
    thermostat = Thermostat(serial_number="S-1", owner="ada", name="Hall", meta=META)
    thermostat.connect("session-1", META)
    thermostat.disconnect("session-1", META)
    aggregates: list[Any] = [device, user, token, thermostat]
    return [e for aggregate in aggregates for e in aggregate.collect_events()]


def as_notification(position: int, stored: StoredEvent) -> Notification:
    return Notification(
        id=position,
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=stored.state,
    )


def comparable(record: Any) -> tuple[Any, ...]:
    return (
        record.position,
        record.aggregate_id,
        record.version,
        record.type,
        record.timestamp,
        record.payload,
        record.partition,
    )


def test_a_record_read_from_the_stored_state_equals_the_decoded_one() -> None:
    app = HublineApplication()
    stored = [app.mapper.to_stored_event(e) for e in events()]
    for position, item in enumerate(stored, start=1):
        notification = as_notification(position, item)
        event = app.mapper.to_domain_event(notification)
        from_state = record_from_state(
            position, item.originator_id, item.originator_version, item.topic, item.state
        )
        assert from_state.event is None
        assert comparable(from_state) == comparable(
            record_from_event(position, event, notification.topic)
        )


def test_an_event_of_an_older_class_version_is_upcast_as_eventsourcing_does() -> None:
    app = HublineApplication()
    thermostat = Thermostat(serial_number="S-2", owner="ada", name="Hall", meta=META)
    thermostat.connect("session-1", META)
    connected = app.mapper.to_stored_event(thermostat.collect_events()[1])
    state = app.mapper.transcoder.decode(connected.state)
    del state["class_version"], state["session_id"]
    old = as_notification(
        7,
        StoredEvent(
            originator_id=connected.originator_id,
            originator_version=connected.originator_version,
            topic=connected.topic,
            state=app.mapper.transcoder.encode(state),
        ),
    )
    from_state = record_from_state(
        7, old.originator_id, old.originator_version, old.topic, old.state
    )
    decoded = record_from_event(7, app.mapper.to_domain_event(old), old.topic)
    assert from_state.payload["session_id"] == decoded.payload["session_id"]
    assert comparable(from_state) == comparable(decoded)
