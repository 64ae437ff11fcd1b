"""An API token's OpenShock control limits (v2 `shockerControl`) as its events store them:
plain JSON, so that the events stay readable whatever becomes of the value classes."""

from __future__ import annotations

from typing import Any

from domain.openshock.values import LimitMode, ShockerControl, ValueRange


def control_as_dict(control: ShockerControl) -> dict[str, Any]:
    return {
        "paused": control.paused,
        "intensity": _range_as_dict(control.intensity),
        "duration": _range_as_dict(control.duration),
    }


def control_from_dict(stored: dict[str, Any] | None) -> ShockerControl:
    """The stored limits; a token stored without any (older or v1 tokens) changes nothing."""
    if stored is None:
        return ShockerControl()
    return ShockerControl(
        paused=bool(stored["paused"]),
        intensity=_range_from_dict(stored["intensity"]),
        duration=_range_from_dict(stored["duration"]),
    )


def _range_as_dict(value: ValueRange) -> dict[str, Any]:
    return {"min": value.min, "max": value.max, "mode": value.mode.value}


def _range_from_dict(stored: dict[str, Any]) -> ValueRange:
    return ValueRange(int(stored["min"]), int(stored["max"]), LimitMode(stored["mode"]))
