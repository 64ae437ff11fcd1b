"""A thermostat's weekly schedule for Auto mode: set points from a day and time onwards (UTC)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from domain.errors import DomainError

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_ENTRIES = 7 * 12
# ASCII digits only, and the whole string: \d takes any Unicode digit ("0٣:30") and $ lets a
# trailing newline through ("06:00\n"), and int() would read both.
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def validated(entries: Any, lowest: int, highest: int) -> list[dict[str, Any]]:
    """[{"day": "Monday", "time": "06:30", "temperature": 2100}, ...], sorted through the week."""
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise DomainError(f"a schedule is a list of at most {MAX_ENTRIES} entries")
    cleaned = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DomainError(f"entry {n} must be an object with day, time and temperature")
        day, time, temperature = entry.get("day"), entry.get("time"), entry.get("temperature")
        if day not in DAYS:
            raise DomainError(f"entry {n}: day must be one of {', '.join(DAYS)}")
        if not isinstance(time, str) or not _TIME.fullmatch(time):
            raise DomainError(f"entry {n}: time must be HH:mm (24-hour, UTC)")
        if isinstance(temperature, bool) or not isinstance(temperature, int):
            raise DomainError(f"entry {n}: temperature must be hundredths of °C (an integer)")
        if not lowest <= temperature <= highest:
            raise DomainError(f"entry {n}: temperature must be between {lowest} and {highest}")
        cleaned.append({"day": day, "time": time, "temperature": temperature})
    keys = [_minute_of_week(e) for e in cleaned]
    if len(set(keys)) != len(keys):
        raise DomainError("two entries start at the same day and time")
    return sorted(cleaned, key=_minute_of_week)


def set_point_at(entries: list[dict[str, Any]], now: datetime) -> int | None:
    """The entry in force at `now`: the last one started this week, else last week's last."""
    if not entries:
        return None
    minute = now.weekday() * 1440 + now.hour * 60 + now.minute
    current = entries[-1]
    for entry in entries:
        if _minute_of_week(entry) <= minute:
            current = entry
    return int(current["temperature"])


def _minute_of_week(entry: dict[str, Any]) -> int:
    hours, minutes = entry["time"].split(":")
    return DAYS.index(entry["day"]) * 1440 + int(hours) * 60 + int(minutes)
