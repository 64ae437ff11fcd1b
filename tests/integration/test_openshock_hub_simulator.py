"""The simulated hub's firmware behaviour on a real loopback websocket, against frames built
with the code generated from the upstream schemas: BootStatus first, a Pong per Ping, a line
per command, commands ignored after an emergency stop, an OTA request printed, and a
Restart that closes the socket and boots afresh. (The whole CLI against a running server,
pairing and assignLCG included, is tests/e2e/test_openshock_simulator.py.)"""

from __future__ import annotations

import asyncio

import websockets
from websockets.asyncio.server import ServerConnection

from gateways.openshock import hub_frames
from gateways.openshock.hub_simulator import (
    FIRMWARE_VERSION,
    SCHEMA,
    HubFirmware,
    SimulatedHub,
    SimulatedShocker,
    serve_connection,
)
from gateways.openshock.wire.Gateway.TriggerType import TriggerType

_HUB = SimulatedHub(
    name="Simulated hub 1",
    pair_code="123456",
    shockers=(SimulatedShocker("Simulated shocker 1", 2, 4321),),
)


def test_the_simulated_firmware_answers_prints_and_restarts() -> None:
    lines: list[str] = []
    heard: list[hub_frames.HubMessage] = []

    async def gateway(socket: ServerConnection) -> None:
        async def next_message() -> hub_frames.HubMessage:
            frame = await socket.recv()
            assert isinstance(frame, bytes)
            message = hub_frames.read_hub_message(frame, SCHEMA)
            heard.append(message)
            return message

        await next_message()  # BootStatus
        await socket.send(hub_frames.ping(1_700_000_000))
        await next_message()  # Pong
        shock = hub_frames.HubCommand(model=2, rf_id=4321, type=1, intensity=40, duration=1500)
        stranger = hub_frames.HubCommand(model=0, rf_id=7, type=2, intensity=5, duration=300)
        await socket.send(hub_frames.command_list([shock, stranger], SCHEMA))
        await socket.send(hub_frames.trigger(TriggerType.EmergencyStop))
        await socket.send(hub_frames.command_list([shock], SCHEMA))
        await socket.send(hub_frames.trigger(TriggerType.Restart))
        await socket.wait_closed()

    async def scenario() -> tuple[bool, HubFirmware]:
        async with websockets.serve(gateway, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            firmware = HubFirmware(_HUB)
            async with websockets.connect(f"ws://127.0.0.1:{port}") as socket:
                restarted = await asyncio.wait_for(
                    serve_connection(socket, firmware, lines.append), 10
                )
            return restarted, firmware

    restarted, firmware = asyncio.run(scenario())

    assert restarted and not firmware.emergency_stopped  # the restart cleared it
    boot, pong = heard
    assert boot == hub_frames.BootStatus(
        boot_type=0, firmware_version=FIRMWARE_VERSION, ota_update_id=0
    )
    assert isinstance(pong, hub_frames.Pong) and 60_000 <= pong.uptime_ms < 1_000_000
    assert -90 < pong.rssi < 0
    assert lines == [
        "Simulated hub 1: Simulated shocker 1 (Petrainer998DR 4321) Shock 40% 1500 ms",
        "Simulated hub 1: an unknown shocker (CaiXianlin 7) Vibrate 5% 300 ms",
        "Simulated hub 1: EmergencyStop",
        "Simulated hub 1: Simulated shocker 1 (Petrainer998DR 4321) Shock 40% 1500 ms"
        " (ignored: emergency stop)",
        "Simulated hub 1: Restart",
    ]
    assert firmware.uptime_ms() < 5_000  # booted again at the restart


def test_the_simulated_firmware_updates_itself_when_asked() -> None:
    heard: list[hub_frames.HubMessage] = []
    lines: list[str] = []

    async def gateway(socket: ServerConnection) -> None:
        async for frame in socket:
            assert isinstance(frame, bytes)
            message = hub_frames.read_hub_message(frame, SCHEMA)
            heard.append(message)
            if isinstance(message, hub_frames.BootStatus) and len(heard) == 1:
                await socket.send(hub_frames.ota_request("1.6.0", SCHEMA))

    async def scenario() -> tuple[bool, HubFirmware]:
        async with websockets.serve(gateway, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            firmware = HubFirmware(_HUB)
            async with websockets.connect(f"ws://127.0.0.1:{port}") as socket:
                restarted = await asyncio.wait_for(
                    serve_connection(socket, firmware, lines.append), 10
                )
            return restarted, firmware

    restarted, firmware = asyncio.run(scenario())

    assert restarted
    started = heard[1]
    assert isinstance(started, hub_frames.OtaStarted) and started.version == "1.6.0"
    tasks = [m.task for m in heard[2:] if isinstance(m, hub_frames.OtaProgress)]
    assert tasks == list(range(7))
    # Its next connection boots into the update, naming it.
    assert firmware.boot_status() == hub_frames.BootStatus(
        boot_type=1, firmware_version="1.6.0", ota_update_id=started.update_id
    )
    assert firmware.boot_status().boot_type == 0
    assert lines == [f"Simulated hub 1: OTA update {started.update_id} to 1.6.0"]
