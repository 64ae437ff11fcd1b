"""Simulated thermostats that connect through the real device gateway: the demo, and bench load.

Each one is registered to the owner, gets an Ed25519 DeviceAuth key, passes the challenge on
/ws/devices/{serial}, obeys the set points it is sent, and warms up while heating and cools
down otherwise, reporting what it measures.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
import secrets

import orjson
import websockets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.context import CommandContext
from domain.deviceauth.commands import SetDevicePublicKey
from domain.errors import DomainError
from domain.thermostats.commands import RegisterThermostat
from infra.command_bus import CommandBus

log = logging.getLogger(__name__)
_CLI = CommandContext(actor_id="simulator", actor_kind="cli")

HEAT_PER_TICK = 15  # hundredths of °C gained per tick while heating
LOSS_PER_TICK = 5  # lost per tick otherwise
HYSTERESIS = 20


def provision(
    bus: CommandBus, owner: str, count: int, prefix: str
) -> list[tuple[str, Ed25519PrivateKey]]:
    """Register `count` thermostats to `owner`, each with a fresh key."""
    devices = []
    for n in range(count):
        serial = f"{prefix}{n:04d}"
        key = Ed25519PrivateKey.generate()
        pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        # Already registered by an earlier run: it only gets a new key.
        with contextlib.suppress(DomainError):
            bus.execute_now(
                RegisterThermostat(serial_number=serial, owner=owner, name=f"Sim {n}", context=_CLI)
            )
        bus.execute_now(SetDevicePublicKey(device_identifier=serial, public_key=pem, context=_CLI))
        devices.append((serial, key))
    return devices


async def run(ws_url: str, devices: list[tuple[str, Ed25519PrivateKey]], tick: float) -> None:
    await asyncio.gather(*(_thermostat(ws_url, serial, key, tick) for serial, key in devices))


async def _thermostat(ws_url: str, serial: str, key: Ed25519PrivateKey, tick: float) -> None:
    temperature = 1800 + random.randint(-100, 100)
    set_point = 2000
    while True:
        try:
            async with websockets.connect(f"{ws_url}/ws/devices/{serial}") as ws:
                challenge = orjson.loads(await ws.recv())
                signature = key.sign(base64.b64decode(challenge["challenge"]))
                await ws.send(
                    orjson.dumps(
                        {
                            "type": "DEVICE_AUTH_RESPONSE",
                            "signature": base64.b64encode(signature).decode(),
                        }
                    )
                )
                verdict = orjson.loads(await ws.recv())
                if verdict.get("type") != "DEVICE_AUTH_ACCEPTED":
                    log.error("%s refused: %s", serial, verdict.get("reason"))
                    return
                heating = False
                while True:
                    try:
                        frame = orjson.loads(await asyncio.wait_for(ws.recv(), timeout=tick))
                        if frame.get("type") == "THERMOSTAT_SETPOINT":
                            set_point = int(frame["setPointTemperature"])
                    except TimeoutError:
                        pass
                    heating = temperature < set_point - (0 if heating else HYSTERESIS)
                    temperature += HEAT_PER_TICK if heating else -LOSS_PER_TICK
                    await ws.send(
                        orjson.dumps(
                            {
                                "type": "THERMOSTAT_REPORT",
                                "currentTemperature": temperature,
                                "isHeating": heating,
                                "errorState": None,
                            }
                        )
                    )
        except (OSError, websockets.ConnectionClosed):
            await asyncio.sleep(
                1 + secrets.randbelow(1000) / 1000
            )  # the server restarts: come back
