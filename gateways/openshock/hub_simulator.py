"""Simulated OpenShock hubs: what a hub's firmware does on the network, for demos and tests.

Each hub pairs once with its pair code (GET /1/device/pair/{code}, as a hub fresh from the
captive portal does), then, for every connection, asks GET /2/device/assignLCG?version=2
where its gateway is and dials the answered host, port and path with its token: BootStatus
first, a Pong for every Ping, and each command, trigger and OTA request printed as one line.
A dropped connection or an unreachable server is tried again with exponential backoff
(jittered, so that many hubs do not come back in step), as the firmware does; a server
that refuses the pair code or stops accepting the token ends that hub alone.

This is the hub side of the wire, so it reads gateway messages and writes hub messages
with the same generated code the gateway uses (hub_frames).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import websockets

from gateways.openshock import hub_frames
from gateways.openshock.wire.Gateway.TriggerType import TriggerType
from gateways.openshock.wire.Types.ShockerCommandType import ShockerCommandType
from gateways.openshock.wire.Types.ShockerModelType import ShockerModelType

log = logging.getLogger(__name__)

FIRMWARE_VERSION = "1.5.2"
USER_AGENT = f"OpenShock/{FIRMWARE_VERSION} (hubline simulate hubs)"
SCHEMA = 2
# OtaUpdateProgressTask: fetching metadata (0) through rebooting (6).
_OTA_TASKS = 7
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
# The gateway checks that an uptime does not date the boot before 2024; a simulated hub
# says it booted a few minutes before the simulator started.
_UPTIME_AT_START_MS = (60_000, 900_000)


def _names(enum: type) -> dict[int, str]:
    return {value: name for name, value in vars(enum).items() if isinstance(value, int)}


# The schema's own names; the REST API spells Petrainer "PetTrainer".
MODEL_NAMES = _names(ShockerModelType)
COMMAND_NAMES = _names(ShockerCommandType)
TRIGGER_NAMES = _names(TriggerType)


@dataclass(frozen=True)
class SimulatedShocker:
    name: str
    model: int  # ShockerModelType
    rf_id: int


@dataclass(frozen=True)
class SimulatedHub:
    name: str
    pair_code: str
    shockers: tuple[SimulatedShocker, ...]


class HubRefused(Exception):
    """The server says this hub cannot go on (pair code unknown, token no longer accepted)."""


@dataclass
class HubFirmware:
    """What a hub keeps between connections: its boot time and its emergency stop."""

    hub: SimulatedHub
    booted: float = field(default_factory=time.monotonic)
    uptime_at_boot_ms: int = field(default_factory=lambda: random.randint(*_UPTIME_AT_START_MS))
    emergency_stopped: bool = False
    version: str = FIRMWARE_VERSION
    # What the next BootStatus says: a boot into a freshly installed update names it.
    boot_type: int = 0
    ota_update_id: int = 0

    def uptime_ms(self) -> int:
        return self.uptime_at_boot_ms + int((time.monotonic() - self.booted) * 1000)

    def reboot(self) -> None:
        self.booted = time.monotonic()
        self.uptime_at_boot_ms = 0
        self.emergency_stopped = False

    def install(self, version: str, update_id: int) -> None:
        """An update flashed: the hub reboots into it and says so in its next BootStatus."""
        self.version, self.boot_type, self.ota_update_id = version, 1, update_id
        self.reboot()

    def boot_status(self) -> hub_frames.BootStatus:
        status = hub_frames.BootStatus(
            boot_type=self.boot_type,
            firmware_version=self.version,
            ota_update_id=self.ota_update_id,
        )
        self.boot_type, self.ota_update_id = 0, 0  # later boots are normal ones
        return status


async def run(
    base_url: str, hubs: Sequence[SimulatedHub], say: Callable[[str], None], stop: asyncio.Event
) -> bool:
    """Runs the hubs until `stop` is set (True) or every hub was refused (False)."""
    headers = {"User-Agent": USER_AGENT}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as http:
        waiter = asyncio.create_task(stop.wait())
        pending: set[asyncio.Task[None]] = {
            asyncio.create_task(_run_hub(http, HubFirmware(hub), say)) for hub in hubs
        }
        while pending and not stop.is_set():
            done, _ = await asyncio.wait({waiter, *pending}, return_when=asyncio.FIRST_COMPLETED)
            pending -= done
        for task in pending:
            task.cancel()
        # Cancelled inside `websockets.connect`, each closes its socket with 1000 on the way.
        await asyncio.gather(*pending, return_exceptions=True)
        waiter.cancel()
    return stop.is_set()


async def _run_hub(
    http: httpx.AsyncClient, firmware: HubFirmware, say: Callable[[str], None]
) -> None:
    hub = firmware.hub
    try:
        token = await _retried(hub.name, lambda: _pair(http, hub))
        log.info("%s: paired", hub.name)
        delay = FIRST_BACKOFF_SECONDS
        while True:
            try:
                url = await _gateway_url(http, token)
                async with websockets.connect(
                    url,
                    additional_headers={
                        "Device-Token": token,
                        "Firmware-Version": firmware.version,
                    },
                    user_agent_header=USER_AGENT,
                    max_size=hub_frames.MAX_FRAME_BYTES,
                ) as socket:
                    log.info("%s: connected to %s", hub.name, url)
                    delay = FIRST_BACKOFF_SECONDS
                    if await serve_connection(socket, firmware, say):
                        continue  # restarted: back at once, freshly booted
                reason = "the gateway closed the connection"
            except websockets.InvalidStatus as refused:
                status = refused.response.status_code
                if status in (401, 403, 404):
                    raise HubRefused(f"the gateway refused the hub's token ({status})") from refused
                reason = f"the gateway answered {status}"
            except (
                OSError,
                TimeoutError,
                httpx.TransportError,
                websockets.WebSocketException,
            ) as exc:
                reason = _reason(exc)
            log.warning("%s: %s; connecting again in %.1f s", hub.name, reason, delay)
            await asyncio.sleep(delay * random.uniform(0.75, 1.25))
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
    except HubRefused as refused:
        log.error("%s: %s; this hub stops", hub.name, refused)
    except Exception:
        # One hub's unforeseen failure is told, and the others go on.
        log.exception("%s: stopped by an unexpected error", hub.name)


async def _retried(name: str, attempt: Callable[[], Awaitable[str]]) -> str:
    """`attempt` until the server answers; HubRefused goes through."""
    delay = FIRST_BACKOFF_SECONDS
    while True:
        try:
            return await attempt()
        except (OSError, httpx.TransportError) as exc:
            log.warning("%s: %s; trying again in %.1f s", name, _reason(exc), delay)
        await asyncio.sleep(delay * random.uniform(0.75, 1.25))
        delay = min(delay * 2, MAX_BACKOFF_SECONDS)


async def _pair(http: httpx.AsyncClient, hub: SimulatedHub) -> str:
    answer = await http.get(f"/1/device/pair/{hub.pair_code}")
    if answer.status_code == 429 or answer.status_code >= 500:
        raise OSError(f"pairing answered {_problem(answer)}")  # tried again
    if answer.status_code != 200:
        raise HubRefused(f"pairing with code {hub.pair_code} answered {_problem(answer)}")
    with contextlib.suppress(ValueError, AttributeError):
        token = answer.json().get("data")
        if isinstance(token, str) and token:
            return token
    raise HubRefused("pairing answered no token")


async def _gateway_url(http: httpx.AsyncClient, token: str) -> str:
    answer = await http.get(
        "/2/device/assignLCG", params={"version": SCHEMA}, headers={"Device-Token": token}
    )
    if answer.status_code in (401, 403, 404):
        raise HubRefused(f"assignLCG refused the hub's token: {_problem(answer)}")
    if answer.status_code != 200:
        raise OSError(f"assignLCG answered {_problem(answer)}")
    try:
        found = answer.json()
        host, port, path = str(found["host"]), int(found["port"]), str(found["path"])
    except (ValueError, KeyError, TypeError) as exc:
        raise OSError(f"assignLCG answered no gateway ({exc})") from exc
    # Firmware always dials wss; a plain-HTTP server (a test, a demo) gets plain ws.
    secure = urlsplit(str(http.base_url)).scheme == "https" or port == 443
    if ":" in host:
        host = f"[{host}]"
    return f"{'wss' if secure else 'ws'}://{host}:{port}{path}"


async def serve_connection(
    socket: websockets.ClientConnection, firmware: HubFirmware, say: Callable[[str], None]
) -> bool:
    """Until the gateway closes the connection (False), asks for a restart (True), or the
    connection drops (ConnectionClosedError)."""
    hub = firmware.hub
    await socket.send(hub_frames.hub_frame(firmware.boot_status(), SCHEMA))
    online = False
    async for frame in socket:
        if isinstance(frame, str):
            log.warning("%s: a text frame from the gateway, ignored", hub.name)
            continue
        try:
            message = hub_frames.read_gateway_message(frame, SCHEMA)
        except hub_frames.FrameError as exc:
            log.warning("%s: an unreadable frame from the gateway (%s), ignored", hub.name, exc)
            continue
        if isinstance(message, hub_frames.GatewayPing):
            pong = hub_frames.Pong(uptime_ms=firmware.uptime_ms(), rssi=random.randint(-75, -45))
            await socket.send(hub_frames.hub_frame(pong, SCHEMA))
            if not online:
                online = True
                log.info("%s: online (answered the first ping)", hub.name)
        elif isinstance(message, hub_frames.GatewayCommands):
            for command in message.commands:
                say(command_line(firmware, command))
        elif isinstance(message, hub_frames.GatewayTrigger):
            kind = TRIGGER_NAMES.get(message.kind, f"trigger {message.kind}")
            say(f"{hub.name}: {kind}")
            if message.kind == TriggerType.EmergencyStop:
                firmware.emergency_stopped = True
            elif message.kind == TriggerType.Restart:
                firmware.reboot()
                await socket.close()
                return True
        elif isinstance(message, hub_frames.GatewayOtaRequest):
            await _update(socket, firmware, message.version, say)
            return True  # rebooted into the new version: back at once
        else:
            say(f"{hub.name}: captive portal {'on' if message.enabled else 'off'}")
    return False


async def _update(
    socket: websockets.ClientConnection,
    firmware: HubFirmware,
    version: str,
    say: Callable[[str], None],
) -> None:
    """An OTA update as the firmware reports one: started (with the id the hub gives it),
    each task done, then a reboot into the new version."""
    update_id = random.randint(1, 2**31 - 1)
    say(f"{firmware.hub.name}: OTA update {update_id} to {version}")
    started = hub_frames.OtaStarted(update_id=update_id, version=version)
    await socket.send(hub_frames.hub_frame(started, SCHEMA))
    for task in range(_OTA_TASKS):
        progress = hub_frames.OtaProgress(update_id=update_id, task=task, progress=1.0)
        await socket.send(hub_frames.hub_frame(progress, SCHEMA))
    firmware.install(version, update_id)
    await socket.close()


def command_line(firmware: HubFirmware, command: hub_frames.HubCommand) -> str:
    """`Simulated hub 1: Simulated shocker 2 (Petrainer998DR 4321) Shock 40% 1500 ms`."""
    model = MODEL_NAMES.get(command.model, f"model {command.model}")
    shocker = next(
        (
            s.name
            for s in firmware.hub.shockers
            if (s.model, s.rf_id) == (command.model, command.rf_id)
        ),
        "an unknown shocker",
    )
    kind = COMMAND_NAMES.get(command.type, f"type {command.type}")
    line = (
        f"{firmware.hub.name}: {shocker} ({model} {command.rf_id}) {kind} "
        f"{command.intensity}% {command.duration} ms"
    )
    # The firmware ignores commands after an emergency stop until it restarts.
    return f"{line} (ignored: emergency stop)" if firmware.emergency_stopped else line


def _problem(answer: httpx.Response) -> str:
    with contextlib.suppress(ValueError):
        body = answer.json()
        if isinstance(body, dict) and body.get("title"):
            return f"{answer.status_code} {body['title']}"
    return str(answer.status_code)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, websockets.ConnectionClosed):
        if exc.rcvd is None:
            return "the connection dropped"
        because = f" {exc.rcvd.reason}" if exc.rcvd.reason else ""
        return f"the gateway closed the connection ({exc.rcvd.code}{because})"
    if isinstance(exc, httpx.TransportError):
        return f"the server is unreachable ({exc or type(exc).__name__})"
    return str(exc) or type(exc).__name__
