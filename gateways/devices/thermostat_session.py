"""A thermostat's session on the device gateway, once it passed the DeviceAuth challenge.

It reports what it measures ({"type":"THERMOSTAT_REPORT","currentTemperature":2050,
"isHeating":true,"errorState":null}, hundredths of °C) and is sent what to do
(projections/thermostat_instructions.py) on connect and after every mode change. Each
socket is a session with an id of its own, so that a thermostat connected twice (a
reconnect racing the close of its old socket) stays online while either is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence

import orjson
from fastapi import WebSocket, WebSocketDisconnect

from domain.context import CommandContext
from domain.errors import DomainError
from domain.thermostats.commands import (
    RecordThermostatConnected,
    RecordThermostatDisconnected,
    ReportThermostatState,
)
from domain.thermostats.thermostat import Thermostat
from gateways.json_frames import next_json_frame
from infra.command_bus import CommandBus
from infra.log.feed import LogFeed
from infra.store.natural_keys import NaturalKeys
from projections.records import LogRecord
from projections.thermostat_instructions import instruction_for, instruction_text

log = logging.getLogger(__name__)


class ThermostatSessions:
    """Serves a device that is a registered thermostat; other devices are left to the caller."""

    def __init__(self, bus: CommandBus, natural_keys: NaturalKeys, feed: LogFeed) -> None:
        self._bus = bus
        self._natural_keys = natural_keys
        self._feed = feed

    async def serve(self, websocket: WebSocket, identifier: str, context: CommandContext) -> bool:
        """Whether the device was a thermostat (and its session is now over)."""
        thermostat = await asyncio.to_thread(self._natural_keys.thermostat, identifier)
        if thermostat is None:
            return False
        await self._session(websocket, thermostat, context)
        return True

    async def _session(
        self, websocket: WebSocket, thermostat: Thermostat, context: CommandContext
    ) -> None:
        serial = thermostat.serial_number
        session_id = str(uuid.uuid4())
        outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=100)

        def listen(records: Sequence[LogRecord]) -> None:
            for record in records:
                instruction = instruction_for(record)
                if instruction is not None and instruction.serial_number == serial:
                    with contextlib.suppress(asyncio.QueueFull):
                        outbox.put_nowait(instruction.text)

        self._feed.add_listener(listen)
        sender: asyncio.Task[None] | None = None
        # Everything after the connect is recorded runs under the `finally` that records the
        # disconnect: a device that leaves before its first instruction is sent must not stay
        # online.
        try:
            await self._bus.execute(
                RecordThermostatConnected(
                    serial_number=serial, session_id=session_id, context=context
                )
            )
            await websocket.send_text(
                instruction_text(thermostat.mode, thermostat.set_point, thermostat.hold_until)
            )
            sender = asyncio.create_task(_send_instructions(websocket, outbox))
            await _receive_reports(websocket, self._bus, serial, session_id, context)
        finally:
            if sender is not None:
                sender.cancel()
                # A send that failed because the device left is no reason to skip the rest.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sender
            self._feed.remove_listener(listen)
            with contextlib.suppress(Exception):
                await self._bus.execute(
                    RecordThermostatDisconnected(
                        serial_number=serial, session_id=session_id, context=context
                    )
                )


async def _send_instructions(websocket: WebSocket, outbox: asyncio.Queue[str]) -> None:
    while True:
        await websocket.send_text(await outbox.get())


async def _receive_reports(
    websocket: WebSocket, bus: CommandBus, serial: str, session_id: str, context: CommandContext
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
            await bus.execute(
                ReportThermostatState(
                    serial_number=serial,
                    session_id=session_id,
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
