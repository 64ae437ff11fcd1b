"""The SENZ mode rules (seeds/senz-restapi.md, Validation), decided without a store.

Temperatures are hundredths of °C. Each test starts from a registered thermostat whose
registration event has been collected, as if saved, so `events` shows only what the
test's own commands recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from domain.context import CommandContext
from domain.errors import DomainError, NotFound
from domain.thermostats.commands import (
    ExpireHold,
    FollowSchedule,
    RegisterThermostat,
    SetMode,
    SetSchedule,
)
from domain.thermostats.handlers import HANDLERS
from domain.thermostats.thermostat import DEFAULT_SET_POINT, Mode, Thermostat, thermostat_id
from tests.unit.fakes import MemoryUnitOfWork

OWNER = "ada"
SERIAL = "SENZ-0001"
CONTEXT = CommandContext(actor_id=OWNER, actor_kind="user", credential_id="token-1")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday, inside WEEK's first entry
ABSOLUTE, RELATIVE = 0, 1
TICK = timedelta(microseconds=1)  # the smallest step a datetime can take
WEEK = [
    {"day": "Monday", "time": "06:00", "temperature": 2100},
    {"day": "Monday", "time": "18:00", "temperature": 1700},
]

State = tuple[int, int, datetime | None]


@pytest.fixture
def uow() -> MemoryUnitOfWork:
    uow = MemoryUnitOfWork(HANDLERS)
    uow.run(RegisterThermostat(serial_number=SERIAL, owner=OWNER, name="Hall", context=CONTEXT))
    save(uow)
    return uow


def thermostat_in(uow: MemoryUnitOfWork, serial: str = SERIAL) -> Thermostat:
    found = uow.get(Thermostat, thermostat_id(serial))
    assert found is not None
    return found


def set_mode(
    uow: MemoryUnitOfWork,
    mode: int,
    temperature: int | None = None,
    temperature_type: int = ABSOLUTE,
    hold_until: datetime | None = None,
    now: datetime = NOW,
    serial: str = SERIAL,
    user: str = OWNER,
) -> State:
    uow.run(
        SetMode(
            serial_number=serial,
            user=user,
            mode=mode,
            temperature=temperature,
            temperature_type=temperature_type,
            hold_until=hold_until,
            now=now,
            context=CONTEXT,
        )
    )
    return state(uow)


def state(uow: MemoryUnitOfWork) -> State:
    thermostat = thermostat_in(uow)
    return thermostat.mode, thermostat.set_point, thermostat.hold_until


def save(uow: MemoryUnitOfWork) -> None:
    """Take the events recorded so far, as the command bus does when it saves them."""
    thermostat_in(uow).collect_events()


def events(uow: MemoryUnitOfWork) -> list[str]:
    return [type(e).__name__ for e in thermostat_in(uow).collect_events()]


def set_schedule(uow: MemoryUnitOfWork, now: datetime = NOW, user: str = OWNER) -> None:
    uow.run(SetSchedule(serial_number=SERIAL, user=user, entries=WEEK, now=now, context=CONTEXT))


def expire_hold(uow: MemoryUnitOfWork, now: datetime, serial: str = SERIAL) -> None:
    uow.run(ExpireHold(serial_number=serial, now=now, context=CONTEXT))


def follow_schedule(uow: MemoryUnitOfWork, now: datetime, serial: str = SERIAL) -> None:
    uow.run(FollowSchedule(serial_number=serial, now=now, context=CONTEXT))


# -- registration, which every other rule starts from -----------------------------------


def test_a_new_thermostat_is_in_auto_at_the_default_set_point(uow: MemoryUnitOfWork) -> None:
    thermostat = thermostat_in(uow)
    assert state(uow) == (Mode.AUTO, DEFAULT_SET_POINT, None)
    assert thermostat.last_hold_set_point == DEFAULT_SET_POINT == 2000
    assert (thermostat.owner, thermostat.name, thermostat.schedule) == (OWNER, "Hall", [])


def test_the_serial_is_stored_in_upper_case_and_names_an_unnamed_thermostat() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    uow.run(RegisterThermostat(serial_number=" ab-12 ", owner=OWNER, name="  ", context=CONTEXT))
    thermostat = thermostat_in(uow, "AB-12")
    assert (thermostat.serial_number, thermostat.name) == ("AB-12", "AB-12")


@pytest.mark.parametrize("serial", ["", "has space", "semi;colon", "x" * 33, "senz-0001"])
def test_bad_or_taken_serials_are_refused(uow: MemoryUnitOfWork, serial: str) -> None:
    with pytest.raises(DomainError):
        uow.run(RegisterThermostat(serial_number=serial, owner="eve", name="", context=CONTEXT))


# -- who may change the mode -------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "user"),
    [("NOPE-0000", OWNER), (SERIAL, "eve")],
    ids=["unknown thermostat", "another user's thermostat"],
)
@pytest.mark.parametrize("mode", list(Mode))
def test_unknown_and_other_users_thermostats_are_both_not_found(
    uow: MemoryUnitOfWork, serial: str, user: str, mode: Mode
) -> None:
    # The same answer for both, so that a caller cannot probe which serials exist.
    with pytest.raises(NotFound, match=rf"^Thermostat {serial} was not found\.$"):
        set_mode(uow, mode, temperature=2500, serial=serial, user=user)
    assert state(uow) == (Mode.AUTO, DEFAULT_SET_POINT, None)
    assert events(uow) == []


def test_ownership_is_checked_before_any_other_rule(uow: MemoryUnitOfWork) -> None:
    with pytest.raises(NotFound):
        set_mode(uow, Mode.HOLD, temperature=1, temperature_type=9, hold_until=NOW, user="eve")


def test_the_serial_is_matched_whatever_its_case(uow: MemoryUnitOfWork) -> None:
    assert set_mode(uow, Mode.MANUAL, temperature=2200, serial="senz-0001") == (
        Mode.MANUAL,
        2200,
        None,
    )


# -- Manual ------------------------------------------------------------------------------


def test_manual_sets_the_temperature_and_never_ends(uow: MemoryUnitOfWork) -> None:
    hold_until = NOW + timedelta(hours=1)
    assert set_mode(uow, Mode.MANUAL, temperature=2150, hold_until=hold_until) == (
        Mode.MANUAL,
        2150,
        None,
    )
    assert events(uow) == ["ModeChanged"]


def test_manual_without_a_temperature_keeps_the_current_set_point(uow: MemoryUnitOfWork) -> None:
    set_mode(uow, Mode.HOLD, temperature=2600)
    # "The current one", not the last Manual one: here it is the hold's.
    assert set_mode(uow, Mode.MANUAL) == (Mode.MANUAL, 2600, None)


@pytest.mark.parametrize(("change", "expected"), [(100, 2600), (-250, 2250), (0, 2500)])
def test_manual_relative_moves_from_the_current_set_point(
    uow: MemoryUnitOfWork, change: int, expected: int
) -> None:
    set_mode(uow, Mode.MANUAL, temperature=2500)
    assert set_mode(uow, Mode.MANUAL, temperature=change, temperature_type=RELATIVE) == (
        Mode.MANUAL,
        expected,
        None,
    )


def test_relative_without_a_temperature_changes_nothing(uow: MemoryUnitOfWork) -> None:
    set_mode(uow, Mode.MANUAL, temperature=2500)
    assert set_mode(uow, Mode.MANUAL, temperature_type=RELATIVE)[1] == 2500


# -- bounds, absolute and relative, in Manual and Hold -----------------------------------


@pytest.mark.parametrize("mode", [Mode.MANUAL, Mode.HOLD])
@pytest.mark.parametrize("temperature", [500, 501, 3499, 3500])
def test_absolute_temperatures_from_5_to_35_degrees_are_taken(
    uow: MemoryUnitOfWork, mode: Mode, temperature: int
) -> None:
    assert set_mode(uow, mode, temperature=temperature)[1] == temperature


@pytest.mark.parametrize("mode", [Mode.MANUAL, Mode.HOLD])
@pytest.mark.parametrize("temperature", [-100, 0, 10, 499, 3501, 9000])
def test_absolute_temperatures_outside_5_to_35_degrees_are_refused(
    uow: MemoryUnitOfWork, mode: Mode, temperature: int
) -> None:
    # The seed's own examples (10 and 15) are refused too: they read as 0.10 and 0.15 °C.
    with pytest.raises(DomainError, match="between 5 and 35 °C"):
        set_mode(uow, mode, temperature=temperature)
    assert state(uow) == (Mode.AUTO, DEFAULT_SET_POINT, None)
    assert events(uow) == []


@pytest.mark.parametrize("mode", [Mode.MANUAL, Mode.HOLD])
@pytest.mark.parametrize(("change", "expected"), [(1500, 3500), (-1500, 500)])
def test_relative_changes_may_reach_the_bounds(
    uow: MemoryUnitOfWork, mode: Mode, change: int, expected: int
) -> None:
    # From 2000 either way: the current set point and the last hold set point both start there.
    assert set_mode(uow, mode, temperature=change, temperature_type=RELATIVE)[1] == expected


@pytest.mark.parametrize("mode", [Mode.MANUAL, Mode.HOLD])
@pytest.mark.parametrize("change", [1501, -1501, 5000, -2000])
def test_relative_changes_past_the_bounds_are_refused(
    uow: MemoryUnitOfWork, mode: Mode, change: int
) -> None:
    with pytest.raises(DomainError, match="between 5 and 35 °C"):
        set_mode(uow, mode, temperature=change, temperature_type=RELATIVE)
    assert events(uow) == []


@pytest.mark.parametrize("mode", [Mode.MANUAL, Mode.HOLD])
@pytest.mark.parametrize("temperature", [None, 2000])
@pytest.mark.parametrize("temperature_type", [-1, 2, 100])
def test_only_absolute_and_relative_temperature_types_exist(
    uow: MemoryUnitOfWork, mode: Mode, temperature: int | None, temperature_type: int
) -> None:
    # Refused even without a temperature, where the type would not matter.
    with pytest.raises(DomainError, match="temperatureType"):
        set_mode(uow, mode, temperature=temperature, temperature_type=temperature_type)
    assert events(uow) == []


# -- Hold --------------------------------------------------------------------------------


def test_hold_keeps_a_temperature_until_the_time_given(uow: MemoryUnitOfWork) -> None:
    until = NOW + timedelta(hours=5, minutes=30)
    assert set_mode(uow, Mode.HOLD, temperature=1800, hold_until=until) == (Mode.HOLD, 1800, until)
    assert thermostat_in(uow).last_hold_set_point == 1800
    assert events(uow) == ["ModeChanged"]


def test_hold_without_an_end_lasts_two_hours(uow: MemoryUnitOfWork) -> None:
    assert set_mode(uow, Mode.HOLD, temperature=1800)[2] == NOW + timedelta(hours=2)


def test_a_new_hold_replaces_the_old_end(uow: MemoryUnitOfWork) -> None:
    set_mode(uow, Mode.HOLD, temperature=1800, hold_until=NOW + timedelta(hours=20))
    later = NOW + timedelta(hours=1)
    # Without holdUntil the two hours count from the new command, not from the old hold.
    assert set_mode(uow, Mode.HOLD, now=later)[2] == later + timedelta(hours=2)


@pytest.mark.parametrize(
    "ahead",
    [TICK, timedelta(hours=2), timedelta(hours=23) - TICK, timedelta(hours=23)],
    ids=["just ahead", "2 h", "just below 23 h", "exactly 23 h"],
)
def test_hold_may_end_up_to_23_hours_ahead(uow: MemoryUnitOfWork, ahead: timedelta) -> None:
    assert set_mode(uow, Mode.HOLD, temperature=1800, hold_until=NOW + ahead)[2] == NOW + ahead


@pytest.mark.parametrize(
    "ahead",
    [timedelta(hours=23) + TICK, timedelta(hours=24), timedelta(days=7)],
    ids=["just above 23 h", "24 h", "a week"],
)
def test_hold_ending_later_than_23_hours_is_refused(
    uow: MemoryUnitOfWork, ahead: timedelta
) -> None:
    with pytest.raises(DomainError, match="within the next 23 hours"):
        set_mode(uow, Mode.HOLD, temperature=1800, hold_until=NOW + ahead)
    assert state(uow) == (Mode.AUTO, DEFAULT_SET_POINT, None)
    assert events(uow) == []


@pytest.mark.parametrize(
    "ago", [timedelta(0), timedelta(minutes=1), timedelta(days=1)], ids=["now", "1 min", "1 day"]
)
def test_hold_ending_now_or_in_the_past_is_refused(uow: MemoryUnitOfWork, ago: timedelta) -> None:
    with pytest.raises(DomainError, match="in the future"):
        set_mode(uow, Mode.HOLD, temperature=1800, hold_until=NOW - ago)
    assert events(uow) == []


def test_hold_end_is_checked_before_the_temperature(uow: MemoryUnitOfWork) -> None:
    with pytest.raises(DomainError, match="in the future"):
        set_mode(uow, Mode.HOLD, temperature=9000, hold_until=NOW)


def test_the_23_hours_count_from_the_commands_now(uow: MemoryUnitOfWork) -> None:
    later = NOW + timedelta(hours=5)
    until = later + timedelta(hours=23)
    assert set_mode(uow, Mode.HOLD, temperature=1800, hold_until=until, now=later)[2] == until


def test_hold_keeps_its_end_in_the_time_zone_given(uow: MemoryUnitOfWork) -> None:
    # The API hands over UTC; the domain compares instants and stores what it was given.
    oslo = datetime(2026, 11, 23, 16, 0, tzinfo=timezone(timedelta(hours=1)))
    until = set_mode(uow, Mode.HOLD, temperature=1800, hold_until=oslo)[2]
    assert until == NOW + timedelta(hours=3)
    assert until is not None and until.utcoffset() == timedelta(hours=1)


def test_hold_without_a_temperature_reuses_the_last_hold_set_point(
    uow: MemoryUnitOfWork,
) -> None:
    set_mode(uow, Mode.HOLD, temperature=1900)
    set_mode(uow, Mode.MANUAL, temperature=2400)
    assert set_mode(uow, Mode.HOLD) == (Mode.HOLD, 1900, NOW + timedelta(hours=2))


def test_the_first_hold_without_a_temperature_holds_the_default_set_point(
    uow: MemoryUnitOfWork,
) -> None:
    # Not the current set point: a thermostat that never held starts from 20 °C.
    set_mode(uow, Mode.MANUAL, temperature=2400)
    assert set_mode(uow, Mode.HOLD)[1] == DEFAULT_SET_POINT


def test_hold_relative_moves_from_the_last_hold_set_point(uow: MemoryUnitOfWork) -> None:
    set_mode(uow, Mode.HOLD, temperature=1900)
    set_mode(uow, Mode.MANUAL, temperature=2500)
    # 1900 + 100, not the current 2500 + 100.
    assert set_mode(uow, Mode.HOLD, temperature=100, temperature_type=RELATIVE)[1] == 2000
    assert set_mode(uow, Mode.HOLD, temperature=-300, temperature_type=RELATIVE)[1] == 1700
    assert thermostat_in(uow).last_hold_set_point == 1700


def test_leaving_hold_keeps_the_last_hold_set_point(uow: MemoryUnitOfWork) -> None:
    set_mode(uow, Mode.HOLD, temperature=1900)
    for mode in (Mode.MANUAL, Mode.AUTO, Mode.OFF):
        set_mode(uow, mode, temperature=2400)
        assert thermostat_in(uow).last_hold_set_point == 1900


def test_a_refused_hold_keeps_the_last_hold_set_point(uow: MemoryUnitOfWork) -> None:
    set_mode(uow, Mode.HOLD, temperature=1900)
    with pytest.raises(DomainError):
        set_mode(uow, Mode.HOLD, temperature=2100, hold_until=NOW + timedelta(hours=24))
    assert set_mode(uow, Mode.HOLD)[1] == 1900


# -- Auto and Off ----------------------------------------------------------------------


def test_auto_takes_the_schedules_set_point_and_ends_a_hold(uow: MemoryUnitOfWork) -> None:
    set_schedule(uow)
    set_mode(uow, Mode.HOLD, temperature=2600)
    assert set_mode(uow, Mode.AUTO) == (Mode.AUTO, 2100, None)
    evening = NOW + timedelta(hours=7)
    set_mode(uow, Mode.MANUAL, temperature=2600, now=evening)
    assert set_mode(uow, Mode.AUTO, now=evening) == (Mode.AUTO, 1700, None)


def test_auto_without_a_schedule_keeps_the_current_set_point(uow: MemoryUnitOfWork) -> None:
    set_mode(uow, Mode.MANUAL, temperature=2600)
    assert set_mode(uow, Mode.AUTO) == (Mode.AUTO, 2600, None)


def test_off_sets_the_set_point_to_zero_and_ends_a_hold(uow: MemoryUnitOfWork) -> None:
    set_mode(uow, Mode.HOLD, temperature=2600)
    assert set_mode(uow, Mode.OFF) == (Mode.OFF, 0, None)


@pytest.mark.parametrize("mode", [Mode.AUTO, Mode.OFF])
def test_auto_and_off_ignore_a_valid_temperature_and_hold_until(
    uow: MemoryUnitOfWork, mode: Mode
) -> None:
    # An invalid temperature is refused as in Manual (tests/unit/domain/test_validation_gaps.py);
    # holdUntil means something only to Hold.
    set_mode(uow, mode, temperature=3000, temperature_type=0, hold_until=NOW - timedelta(days=1))
    assert state(uow) == (mode, DEFAULT_SET_POINT if mode == Mode.AUTO else 0, None)


def test_after_off_the_set_point_stays_zero_until_a_temperature_is_given(
    uow: MemoryUnitOfWork,
) -> None:
    # Pinned as it is today: 0 is below the 5 °C that any given temperature must reach,
    # yet Auto without a schedule and Manual without a temperature both keep it.
    set_mode(uow, Mode.OFF)
    assert set_mode(uow, Mode.AUTO) == (Mode.AUTO, 0, None)
    assert set_mode(uow, Mode.MANUAL) == (Mode.MANUAL, 0, None)
    with pytest.raises(DomainError, match="between 5 and 35 °C"):
        set_mode(uow, Mode.MANUAL, temperature=100, temperature_type=RELATIVE)
    assert set_mode(uow, Mode.MANUAL, temperature=600, temperature_type=RELATIVE)[1] == 600
    # Hold reuses its own set point, so it is not affected.
    set_mode(uow, Mode.OFF)
    assert set_mode(uow, Mode.HOLD)[1] == DEFAULT_SET_POINT


# -- what the API never sends ----------------------------------------------------------


def test_holiday_is_decided_like_manual(uow: MemoryUnitOfWork) -> None:
    # SENZ numbers it (4); the API offers only auto, manual, hold and off.
    hold_until = NOW + timedelta(hours=1)
    assert set_mode(uow, Mode.HOLIDAY, temperature=1500, hold_until=hold_until) == (
        Mode.HOLIDAY,
        1500,
        None,
    )
    assert set_mode(uow, Mode.HOLIDAY, temperature=-100, temperature_type=RELATIVE)[1] == 1400


def test_an_unknown_mode_number_is_not_a_domain_error(uow: MemoryUnitOfWork) -> None:
    with pytest.raises(ValueError, match="is not a valid Mode") as refused:
        set_mode(uow, 9, temperature=2000)
    assert not isinstance(refused.value, DomainError)


def test_a_hold_end_without_a_time_zone_is_not_a_domain_error(uow: MemoryUnitOfWork) -> None:
    # The API refuses such times before they get here.
    with pytest.raises(TypeError):
        set_mode(uow, Mode.HOLD, hold_until=datetime(2026, 11, 23, 13, 0))


# -- ExpireHold --------------------------------------------------------------------------


HOLD_END = NOW + timedelta(hours=3)


@pytest.fixture
def holding(uow: MemoryUnitOfWork) -> MemoryUnitOfWork:
    set_schedule(uow)
    set_mode(uow, Mode.HOLD, temperature=2600, hold_until=HOLD_END)
    save(uow)
    return uow


def test_a_hold_is_not_expired_before_its_end(holding: MemoryUnitOfWork) -> None:
    expire_hold(holding, HOLD_END - TICK)
    assert state(holding) == (Mode.HOLD, 2600, HOLD_END)
    assert events(holding) == []


@pytest.mark.parametrize("late", [timedelta(0), TICK, timedelta(days=3)])
def test_a_due_hold_returns_to_auto_at_the_default_set_point(
    holding: MemoryUnitOfWork, late: timedelta
) -> None:
    expire_hold(holding, HOLD_END + late)
    # The default, not the schedule's 2100: following the schedule is a separate command.
    assert state(holding) == (Mode.AUTO, DEFAULT_SET_POINT, None)
    assert events(holding) == ["HoldExpired"]
    assert thermostat_in(holding).last_hold_set_point == 2600


def test_a_hold_expires_once(holding: MemoryUnitOfWork) -> None:
    expire_hold(holding, HOLD_END)
    expire_hold(holding, HOLD_END + timedelta(minutes=1))
    assert events(holding) == ["HoldExpired"]


@pytest.mark.parametrize("mode", [Mode.AUTO, Mode.MANUAL, Mode.OFF])
def test_only_a_hold_expires(holding: MemoryUnitOfWork, mode: Mode) -> None:
    before = set_mode(holding, mode, temperature=2200)
    save(holding)
    expire_hold(holding, HOLD_END + timedelta(days=1))
    assert state(holding) == before
    assert events(holding) == []


def test_expiring_an_unknown_thermostat_does_nothing(uow: MemoryUnitOfWork) -> None:
    # The scheduler may name a thermostat that is gone; that is not an error.
    expire_hold(uow, NOW, serial="NOPE-0000")
    follow_schedule(uow, NOW, serial="NOPE-0000")


def test_after_expiry_auto_follows_the_schedule_again(holding: MemoryUnitOfWork) -> None:
    expire_hold(holding, HOLD_END)
    follow_schedule(holding, HOLD_END)
    assert state(holding) == (Mode.AUTO, 2100, None)
    assert events(holding) == ["HoldExpired", "ModeChanged"]


# -- FollowSchedule and SetSchedule ------------------------------------------------------


def test_auto_follows_the_entry_in_force(uow: MemoryUnitOfWork) -> None:
    set_schedule(uow)
    save(uow)
    follow_schedule(uow, NOW + timedelta(hours=7))
    assert state(uow) == (Mode.AUTO, 1700, None)
    assert events(uow) == ["ModeChanged"]


def test_following_an_unchanged_set_point_records_nothing(uow: MemoryUnitOfWork) -> None:
    set_schedule(uow)
    save(uow)
    follow_schedule(uow, NOW + timedelta(hours=1))
    assert state(uow) == (Mode.AUTO, 2100, None)
    assert events(uow) == []


@pytest.mark.parametrize("mode", [Mode.HOLD, Mode.MANUAL, Mode.OFF])
def test_only_auto_follows_the_schedule(uow: MemoryUnitOfWork, mode: Mode) -> None:
    set_schedule(uow)
    before = set_mode(uow, mode, temperature=2600)
    save(uow)
    follow_schedule(uow, NOW + timedelta(hours=7))
    assert state(uow) == before
    assert events(uow) == []


def test_without_a_schedule_there_is_nothing_to_follow(uow: MemoryUnitOfWork) -> None:
    follow_schedule(uow, NOW)
    assert state(uow) == (Mode.AUTO, DEFAULT_SET_POINT, None)
    assert events(uow) == []


def test_a_new_schedule_applies_at_once_in_auto(uow: MemoryUnitOfWork) -> None:
    set_schedule(uow)
    assert state(uow) == (Mode.AUTO, 2100, None)
    assert events(uow) == ["ScheduleSet", "ModeChanged"]


def test_a_new_schedule_waits_for_auto_in_other_modes(uow: MemoryUnitOfWork) -> None:
    set_mode(uow, Mode.MANUAL, temperature=2600)
    save(uow)
    set_schedule(uow)
    assert state(uow) == (Mode.MANUAL, 2600, None)
    assert events(uow) == ["ScheduleSet"]


def test_only_the_owner_sets_a_schedule(uow: MemoryUnitOfWork) -> None:
    with pytest.raises(NotFound):
        set_schedule(uow, user="eve")
    assert thermostat_in(uow).schedule == []


# -- what is recorded --------------------------------------------------------------------


def test_a_mode_change_carries_what_notifications_need(uow: MemoryUnitOfWork) -> None:
    until = NOW + timedelta(hours=1)
    set_mode(uow, Mode.HOLD, temperature=1800, hold_until=until)
    (changed,) = thermostat_in(uow).collect_events()
    recorded: dict[str, Any] = vars(changed)
    assert {k: recorded[k] for k in ("serial_number", "owner", "set_point", "hold_until")} == {
        "serial_number": SERIAL,
        "owner": OWNER,
        "set_point": 1800,
        "hold_until": until,
    }
    assert recorded["mode"] == Mode.HOLD
    assert recorded["meta"] == CONTEXT.as_metadata()


def test_every_accepted_mode_change_is_recorded_even_if_nothing_differs(
    uow: MemoryUnitOfWork,
) -> None:
    set_mode(uow, Mode.MANUAL, temperature=2200)
    set_mode(uow, Mode.MANUAL, temperature=2200)
    set_mode(uow, Mode.MANUAL)
    assert events(uow) == ["ModeChanged"] * 3
