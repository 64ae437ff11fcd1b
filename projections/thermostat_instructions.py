"""What a thermostat on the device gateway is told to do, from each change of its mode.

The instruction is {"type":"THERMOSTAT_SETPOINT","mode":3,"setPointTemperature":2150,
"holdUntil":null}: sent on connect and after every mode change or hold expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from domain.thermostats.thermostat import Thermostat
from projections.records import LogRecord

_INSTRUCTIONS = (Thermostat.ModeChanged, Thermostat.HoldExpired)


@dataclass(frozen=True)
class Instruction:
    serial_number: str
    text: str


def instruction_for(record: LogRecord) -> Instruction | None:
    if not isinstance(record.event, _INSTRUCTIONS):
        return None
    payload = record.payload
    text = instruction_text(payload.get("mode", 1), payload["set_point"], payload.get("hold_until"))
    return Instruction(str(payload.get("serial_number")), text)


def instruction_text(mode: int, set_point: int, hold_until: datetime | str | None) -> str:
    if isinstance(hold_until, datetime):
        hold_until = hold_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    message: dict[str, Any] = {
        "type": "THERMOSTAT_SETPOINT",
        "mode": int(mode),
        "setPointTemperature": set_point,
        "holdUntil": hold_until,
    }
    return orjson.dumps(message).decode()
