"""Commands of the SENZ thermostat surface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.commands import Command


@dataclass(frozen=True, kw_only=True)
class RegisterThermostat(Command):
    serial_number: str
    owner: str
    name: str


@dataclass(frozen=True, kw_only=True)
class SetMode(Command):
    """PUT /Mode/{auto|manual|hold|off}, decided for the user who sent it."""

    serial_number: str
    user: str
    mode: int
    temperature: int | None = None  # hundredths of °C
    temperature_type: int = 0  # 0 absolute, 1 relative to the current set point
    hold_until: datetime | None = None
    now: datetime


@dataclass(frozen=True, kw_only=True)
class ExpireHold(Command):
    serial_number: str
    now: datetime


@dataclass(frozen=True, kw_only=True)
class RecordThermostatConnected(Command):
    """A device session of the thermostat opened; the gateway names it (a fresh uuid)."""

    serial_number: str
    session_id: str


@dataclass(frozen=True, kw_only=True)
class RecordThermostatDisconnected(Command):
    serial_number: str
    session_id: str


@dataclass(frozen=True, kw_only=True)
class ReportThermostatState(Command):
    serial_number: str
    # The session the report came through: a session that reports is alive.
    session_id: str
    current_temperature: int
    is_heating: bool
    error_state: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetSchedule(Command):
    serial_number: str
    user: str
    entries: object  # validated by the handler
    now: datetime


@dataclass(frozen=True, kw_only=True)
class FollowSchedule(Command):
    serial_number: str
    now: datetime
