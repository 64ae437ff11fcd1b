"""A thermostat's session on the device gateway, once it passed the DeviceAuth challenge.

It reports what it measures ({"type":"THERMOSTAT_REPORT","currentTemperature":2050,
"isHeating":true,"errorState":null}, hundredths of °C) and is sent what to do
({"type":"THERMOSTAT_SETPOINT","mode":3,"setPointTemperature":2150,"holdUntil":null}) on
connect and after every mode change. It is online while the socket is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import WebSocket, WebSocketDisconnect

from domain.context import CommandContext
from domain.errors import DomainError
from domain.thermostats.commands import ReportThermostatState, SetThermostatOnline
from domain.thermostats.thermostat import Thermostat
from gateways.json_frames import next_json_frame
from infra.root.services import Hub
from projections.records import LogRecord

log = logging.getLogger(__name__)

_INSTRUCTIONS = {"Thermostat.ModeChanged", "Thermostat.HoldExpired"}


def find_thermostat(hub: Hub, serial_number: str) -> Thermostat | None:
    return hub.identity.directory.thermostat(serial_number)


def _instruction(mode: int, set_point: int, hold_until: Any) -> str:
    if hold_until is not None and not isinstance(hold_until, str):
        hold_until = hold_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    return orjson.dumps(
        {
            "type": "THERMOSTAT_SETPOINT",
            "mode": int(mode),
            "setPointTemperature": set_point,
            "holdUntil": hold_until,
        }
    ).decode()


async def thermostat_session(
    websocket: WebSocket, hub: Hub, thermostat: Thermostat, context: CommandContext
) -> None:
    serial = thermostat.serial_number
    outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=100)

    def listen(records: Sequence[LogRecord]) -> None:
        for record in records:
            if record.type in _INSTRUCTIONS and record.payload.get("serial_number") == serial:
                payload = record.payload
                with contextlib.suppress(asyncio.QueueFull):
                    outbox.put_nowait(
                        _instruction(
                            payload.get("mode", 1), payload["set_point"], payload.get("hold_until")
                        )
                    )

    hub.feed.add_listener(listen)
    await hub.execute(SetThermostatOnline(serial_number=serial, online=True, context=context))
    await websocket.send_text(
        _instruction(thermostat.mode, thermostat.set_point, thermostat.hold_until)
    )
    sender = asyncio.create_task(_send_instructions(websocket, outbox))
    try:
        await _receive_reports(websocket, hub, serial, context)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        hub.feed.remove_listener(listen)
        with contextlib.suppress(Exception):
            await hub.execute(
                SetThermostatOnline(serial_number=serial, online=False, context=context)
            )


async def _send_instructions(websocket: WebSocket, outbox: asyncio.Queue[str]) -> None:
    while True:
        await websocket.send_text(await outbox.get())


async def _receive_reports(
    websocket: WebSocket, hub: Hub, serial: str, context: CommandContext
) -> None:
    while True:
        try:
            frame = await next_json_frame(websocket)
        except WebSocketDisconnect:
            return
        if isinstance(frame, dict) and frame.get("type") == "PING":
            await websocket.send_text('{"type":"PONG"}')
            continue
        if not isinstance(frame, dict) or frame.get("type") != "THERMOSTAT_REPORT":
            await _error(websocket, 'expected {"type":"THERMOSTAT_REPORT",...} or PING')
            continue
        temperature, heating = frame.get("currentTemperature"), frame.get("isHeating")
        error_state = frame.get("errorState")
        if (
            not isinstance(temperature, int)
            or isinstance(temperature, bool)
            or not isinstance(heating, bool)
            or not (error_state is None or isinstance(error_state, str))
        ):
            await _error(
                websocket,
                "currentTemperature must be an integer (hundredths of °C), isHeating a boolean,"
                " errorState a string or null",
            )
            continue
        try:
            await hub.execute(
                ReportThermostatState(
                    serial_number=serial,
                    current_temperature=temperature,
                    is_heating=heating,
                    error_state=error_state,
                    context=context,
                )
            )
        except DomainError as exc:
            await _error(websocket, str(exc))


async def _error(websocket: WebSocket, message: str) -> None:
    await websocket.send_text(orjson.dumps({"type": "ERROR", "message": message}).decode())
