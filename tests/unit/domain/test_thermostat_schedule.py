"""Which schedule entry is in force, and what a schedule may hold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import DomainError
from domain.thermostats.schedule import set_point_at, validated

WEEK = validated(
    [
        {"day": "Monday", "time": "06:30", "temperature": 2100},
        {"day": "Monday", "time": "22:00", "temperature": 1700},
        {"day": "Saturday", "time": "08:00", "temperature": 2200},
    ],
    500,
    3500,
)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 23, 7, 0, tzinfo=UTC), 2100),  # a Monday morning
        (datetime(2026, 11, 23, 23, 0, tzinfo=UTC), 1700),
        (datetime(2026, 11, 28, 9, 0, tzinfo=UTC), 2200),  # Saturday
        (datetime(2026, 11, 23, 5, 0, tzinfo=UTC), 2200),  # before Monday's first: last week's last
    ],
)
def test_the_entry_in_force(moment: datetime, expected: int) -> None:
    assert set_point_at(WEEK, moment) == expected


def test_no_schedule_means_no_set_point() -> None:
    assert set_point_at([], datetime.now(UTC)) is None


@pytest.mark.parametrize(
    "entries",
    [
        "weekly",
        [{"day": "Funday", "time": "06:00", "temperature": 2000}],
        [{"day": "Monday", "time": "6am", "temperature": 2000}],
        [{"day": "Monday", "time": "06:00", "temperature": 20.5}],
        [{"day": "Monday", "time": "06:00", "temperature": 9000}],
        [{"day": "Monday", "time": "06:00", "temperature": 2000}] * 2,
    ],
)
def test_bad_schedules_are_refused(entries: object) -> None:
    with pytest.raises(DomainError):
        validated(entries, 500, 3500)
