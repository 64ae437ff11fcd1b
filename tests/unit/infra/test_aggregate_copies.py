"""A command's private copy of an aggregate: equal to the original, and nothing done to it
(changed fields, nested lists and dicts, new pending events) reaches the original."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.thermostats.thermostat import Mode, Thermostat
from infra.store.aggregate_copies import copy_aggregate

META: dict[str, Any] = {"actor_id": "ada", "actor_kind": "user"}
AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def thermostat() -> Thermostat:
    found = Thermostat(serial_number="S-1", owner="ada", name="Hall", meta=META)
    found.connect("session-1", META)
    found.change_mode(Mode.HOLD, 1500, AT, META)
    found.collect_events()
    found.schedule = [{"day": 1, "points": [{"at": "06:00", "set_point": 2100}]}]
    return found


def test_a_copy_equals_the_original_and_is_of_its_class() -> None:
    original = thermostat()
    copied = copy_aggregate(original)
    assert type(copied) is Thermostat
    assert copied == original == copy.deepcopy(original)
    assert copied.id == original.id and copied.version == original.version


def test_changing_a_copy_leaves_the_original_as_it_was() -> None:
    original = thermostat()
    before = copy.deepcopy(original)
    copied = copy_aggregate(original)
    copied.connect("session-2", META)  # a new pending event and a longer session list
    copied.schedule[0]["points"][0]["set_point"] = 1800
    copied.schedule.append({"day": 2, "points": []})
    assert original == before
    assert original._pending_events == [] and len(copied._pending_events) == 1
    assert copied.live_sessions == ["session-1", "session-2"]
    assert original.live_sessions == ["session-1"]


def test_pending_events_are_kept_in_a_list_of_the_copys_own() -> None:
    original = thermostat()
    original.connect("session-2", META)
    copied = copy_aggregate(original)
    assert copied._pending_events == original._pending_events
    copied.collect_events()
    assert len(original._pending_events) == 1


class Custom(Aggregate):
    """A class that says how it is copied: its own way is used."""

    copies = 0

    @staticmethod
    def create_id() -> Any:
        from uuid import uuid4

        return uuid4()

    def __deepcopy__(self, memo: dict[int, Any]) -> Custom:
        Custom.copies += 1
        copied: Custom = object.__new__(Custom)
        copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return copied


def test_a_class_with_its_own_copy_is_deep_copied() -> None:
    copy_aggregate(Custom())
    assert Custom.copies == 1
