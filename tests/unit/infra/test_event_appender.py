"""The append path writes exactly what eventsourcing's mapper writes, for every event class
of the domain: the same topic, ids and state bytes, so that existing logs and new ones are
read back alike, and eventsourcing's mapper decodes what it writes."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate, event
from eventsourcing.persistence import StoredEvent

import domain
from domain.thermostats.thermostat import Mode, Thermostat
from infra.store.event_appender import EventAppender
from infra.store.event_store import HublineApplication, record_from_event, record_from_state

AT = datetime(2026, 11, 26, 12, 0, 0, 120000, tzinfo=UTC)
SAMPLES: list[Any] = [
    uuid4(),
    AT,
    datetime(2026, 1, 2, 3, 4, 5),  # naive
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    Decimal("12.340"),
    {
        "when": AT,
        "ids": [uuid4(), str(uuid4())],
        "amount": Decimal("-0.5"),
        "deep": {"list": [1, "x", None, {"t": AT, "f": 1.5}], "empty": {}},
    },
    'text with "_type_" and "_data_", ø and \u2603',
    42,
    None,
    True,
    Mode.HOLD,
    ("a", 1),
    ["x", "y"],
    {"_type_": "not", "_data_": "a typed value", "extra": 1},
]


def event_classes() -> list[type]:
    """Every event class nested in an aggregate of domain/."""
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    found: dict[str, type] = {}
    pending: list[type] = [Aggregate]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("domain."):
            for value in vars(cls).values():
                if isinstance(value, type) and issubclass(value, CanMutateAggregate):
                    found[f"{value.__module__}:{value.__qualname__}"] = value
    return [found[topic] for topic in sorted(found)]


def an_event(cls: type, offset: int) -> Any:
    """An instance with every field set, as eventsourcing's mapper builds one (no __init__)."""
    state: dict[str, Any] = {}
    for n, field in enumerate(fields(cls)):
        if field.name == "originator_id":
            state[field.name] = uuid4()
        elif field.name == "originator_version":
            state[field.name] = 7
        elif field.name == "timestamp":
            state[field.name] = AT + timedelta(microseconds=offset)
        else:
            state[field.name] = SAMPLES[(n + offset) % len(SAMPLES)]
    instance: Any = object.__new__(cls)
    object.__setattr__(instance, "__dict__", state)
    return instance


CLASSES = event_classes()


def test_the_domain_has_event_classes_to_compare() -> None:
    assert len(CLASSES) >= 40
    assert any(getattr(cls, "class_version", 1) > 1 for cls in CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__qualname__)
def test_an_event_is_stored_as_eventsourcings_mapper_stores_it(cls: type) -> None:
    app = HublineApplication()
    appender = EventAppender(app)
    for offset in range(len(SAMPLES)):
        original = an_event(cls, offset)
        theirs = app.mapper.to_stored_event(original)
        oid, version, topic, state = appender._row(original)
        assert (oid, version, topic) == (
            theirs.originator_id,
            theirs.originator_version,
            theirs.topic,
        )
        assert state == theirs.state
        ours = StoredEvent(originator_id=oid, originator_version=version, topic=topic, state=state)
        assert vars(app.mapper.to_domain_event(ours)) == vars(app.mapper.to_domain_event(theirs))


class Ledger(Aggregate):
    """Values the domain does not use yet, in events made the ordinary way."""

    @event("Opened")
    def __init__(self, owner: UUID, opened: datetime) -> None:
        self.owner = owner

    Booked: ClassVar[type[Aggregate.Event]]

    @event("Booked")
    def book(self, amount: Decimal, lines: list[dict[str, Any]], due: datetime | None) -> None:
        pass


def test_events_of_a_command_decode_to_equal_events_and_records() -> None:
    app = HublineApplication()
    appender = EventAppender(app)
    ledger = Ledger(owner=uuid4(), opened=AT)
    ledger.book(Decimal("10.05"), [{"at": AT, "ref": uuid4(), "n": [1, 2.5]}], None)
    thermostat = Thermostat(serial_number="S-1", owner="ada", name="Hall", meta={"a": None})
    thermostat.change_mode(Mode.HOLD, 1500, AT + timedelta(hours=1), {"a": "b"})
    thermostat.connect("session-1", {})
    events = [*ledger.collect_events(), *thermostat.collect_events()]
    for position, original in enumerate(events, start=1):
        oid, version, topic, state = appender._row(original)
        stored = StoredEvent(
            originator_id=oid, originator_version=version, topic=topic, state=state
        )
        assert state == app.mapper.to_stored_event(original).state
        decoded = app.mapper.to_domain_event(stored)
        assert type(decoded) is type(original)
        # orjson writes UUIDs as text; the aggregate's own id comes back as a UUID.
        assert decoded.originator_id == original.originator_id
        assert decoded.timestamp == original.timestamp
        ours = record_from_state(position, str(oid), version, topic, state, original)
        assert ours.event is original
        assert (ours.aggregate_id, ours.version, ours.timestamp) == (
            str(original.originator_id),
            original.originator_version,
            original.timestamp,
        )
        if isinstance(original, Ledger.Booked):
            # record_from_event cannot build a payload with a Decimal (orjson does not
            # write one); the stored form keeps it as text.
            assert decoded.amount == Decimal("10.05")  # type: ignore[attr-defined]
            assert ours.payload["amount"] == "10.05"
            assert ours.payload["lines"][0]["at"] == AT.isoformat()
            continue
        theirs = record_from_event(position, decoded, topic)
        assert (ours.position, ours.type, ours.timestamp, ours.payload) == (
            theirs.position,
            theirs.type,
            theirs.timestamp,
            theirs.payload,
        )
    # The last is Thermostat.Connected, of class version 2: marked as the mapper marks it.
    assert state.endswith(b',"class_version":2}')
