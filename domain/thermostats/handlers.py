"""The SENZ mode rules (seeds/senz-restapi.md, Validation)."""

from __future__ import annotations

import re
from datetime import timedelta

from domain.commands import UnitOfWork
from domain.errors import DomainError, NotFound
from domain.thermostats.commands import (
    ExpireHold,
    FollowSchedule,
    RecordThermostatConnected,
    RecordThermostatDisconnected,
    RegisterThermostat,
    ReportThermostatState,
    SetMode,
    SetSchedule,
)
from domain.thermostats.schedule import set_point_at, validated
from domain.thermostats.thermostat import DEFAULT_SET_POINT, Mode, Thermostat, thermostat_id

DEFAULT_HOLD = timedelta(hours=2)
LONGEST_HOLD = timedelta(hours=23)
# Hundredths of °C a thermostat accepts as a set point.
LOWEST, HIGHEST = 500, 3500
_SERIAL = re.compile(r"^[A-Za-z0-9-]{1,32}$")


def register_thermostat(command: RegisterThermostat, uow: UnitOfWork) -> None:
    serial = command.serial_number.strip().upper()
    if not _SERIAL.match(serial):
        raise DomainError("a serial number is 1 to 32 letters, digits or dashes")
    if uow.get(Thermostat, thermostat_id(serial)) is not None:
        raise DomainError(f"thermostat {serial} is already registered")
    uow.add(
        Thermostat(
            serial_number=serial,
            owner=command.owner,
            name=command.name.strip() or serial,
            meta=command.context.as_metadata(),
        )
    )


def set_mode(command: SetMode, uow: UnitOfWork) -> None:
    thermostat = uow.get(Thermostat, thermostat_id(command.serial_number))
    # Another user's thermostat is as unknown as a missing one: no probing for serials.
    if thermostat is None or thermostat.owner != command.user:
        raise NotFound(f"Thermostat {command.serial_number} was not found.")
    mode = Mode(command.mode)
    if command.temperature_type not in (0, 1):
        raise DomainError("temperatureType must be 0 (absolute) or 1 (relative)")
    if mode in (Mode.AUTO, Mode.OFF):
        # These modes take no temperature (seed: ModeAuto sends only the serial); one that
        # comes anyway is checked as Manual would, so a bad one is refused, not dropped.
        _set_point(command, thermostat.set_point)
        scheduled = set_point_at(thermostat.schedule, command.now) or thermostat.set_point
        thermostat.change_mode(
            mode=mode,
            set_point=scheduled if mode == Mode.AUTO else 0,
            hold_until=None,
            meta=command.context.as_metadata(),
        )
        return
    if mode == Mode.HOLD:
        hold_until = command.hold_until or command.now + DEFAULT_HOLD
        if hold_until <= command.now:
            raise DomainError("holdUntil must be in the future")
        if hold_until > command.now + LONGEST_HOLD:
            raise DomainError("holdUntil must be within the next 23 hours")
        base = thermostat.last_hold_set_point
    else:
        hold_until = None
        base = thermostat.set_point
    set_point = _set_point(command, base)
    thermostat.change_mode(
        mode=mode, set_point=set_point, hold_until=hold_until, meta=command.context.as_metadata()
    )


def _set_point(command: SetMode, base: int) -> int:
    if command.temperature is None:
        return base  # no temperature: keep the last one for this mode
    value = command.temperature if command.temperature_type == 0 else base + command.temperature
    if not LOWEST <= value <= HIGHEST:
        raise DomainError(
            f"temperature must give a set point between {LOWEST // 100} and {HIGHEST // 100} °C"
        )
    return value


def expire_hold(command: ExpireHold, uow: UnitOfWork) -> None:
    thermostat = uow.get(Thermostat, thermostat_id(command.serial_number))
    if thermostat is None or thermostat.mode != Mode.HOLD or thermostat.hold_until is None:
        return
    if thermostat.hold_until > command.now:
        return
    thermostat.expire_hold(set_point=DEFAULT_SET_POINT, meta=command.context.as_metadata())


def set_schedule(command: SetSchedule, uow: UnitOfWork) -> None:
    thermostat = uow.get(Thermostat, thermostat_id(command.serial_number))
    if thermostat is None or thermostat.owner != command.user:
        raise NotFound(f"Thermostat {command.serial_number} was not found.")
    entries = validated(command.entries, LOWEST, HIGHEST)
    meta = command.context.as_metadata()
    thermostat.set_schedule(entries, meta)
    scheduled = set_point_at(entries, command.now)
    if scheduled is not None:
        thermostat.follow_schedule(scheduled, meta)


def follow_schedule(command: FollowSchedule, uow: UnitOfWork) -> None:
    thermostat = uow.get(Thermostat, thermostat_id(command.serial_number))
    if thermostat is None:
        return
    scheduled = set_point_at(thermostat.schedule, command.now)
    if scheduled is not None:
        thermostat.follow_schedule(scheduled, command.context.as_metadata())


def record_thermostat_connected(command: RecordThermostatConnected, uow: UnitOfWork) -> None:
    thermostat = uow.get(Thermostat, thermostat_id(command.serial_number))
    if thermostat is None:
        raise NotFound(f"no thermostat {command.serial_number}")
    thermostat.connect(command.session_id, command.context.as_metadata())


def record_thermostat_disconnected(command: RecordThermostatDisconnected, uow: UnitOfWork) -> None:
    thermostat = uow.get(Thermostat, thermostat_id(command.serial_number))
    if thermostat is None:
        raise NotFound(f"no thermostat {command.serial_number}")
    thermostat.disconnect(command.session_id, command.context.as_metadata())


def report_thermostat_state(command: ReportThermostatState, uow: UnitOfWork) -> None:
    thermostat = uow.get(Thermostat, thermostat_id(command.serial_number))
    if thermostat is None:
        raise NotFound(f"no thermostat {command.serial_number}")
    if not -5000 <= command.current_temperature <= 8000:
        raise DomainError("currentTemperature is out of range (hundredths of °C)")
    if command.error_state is not None and len(command.error_state) > 200:
        raise DomainError("errorState is too long")
    thermostat.report(
        command.session_id,
        command.current_temperature,
        command.is_heating,
        command.error_state,
        command.context.as_metadata(),
    )


HANDLERS = {
    RegisterThermostat: register_thermostat,
    SetMode: set_mode,
    ExpireHold: expire_hold,
    RecordThermostatConnected: record_thermostat_connected,
    RecordThermostatDisconnected: record_thermostat_disconnected,
    ReportThermostatState: report_thermostat_state,
    SetSchedule: set_schedule,
    FollowSchedule: follow_schedule,
}
