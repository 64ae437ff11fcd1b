"""The messages of OpenShock's hub websocket as our code sees them, and its version rules.

gateways/openshock/hub_frames.py is the codec's public face; these types are shared by its
reading (hub_frame_reads.py) and building (hub_frame_builds.py) halves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What a hub is sent is the domain's HubCommand, named here with the other messages.
from domain.openshock.control import HubCommand as HubCommand

# The real gateway's limit for one frame; a larger one is refused before it is read.
MAX_FRAME_BYTES = 512_000


@dataclass(frozen=True)
class Pong:
    uptime_ms: int
    rssi: int


@dataclass(frozen=True)
class BootStatus:
    boot_type: int  # 0 Normal, 1 NewFirmware, 2 Rollback
    firmware_version: str
    ota_update_id: int


@dataclass(frozen=True)
class OtaStarted:
    update_id: int
    version: str


@dataclass(frozen=True)
class OtaProgress:
    update_id: int
    task: int
    progress: float


@dataclass(frozen=True)
class OtaFailed:
    update_id: int
    message: str
    fatal: bool


@dataclass(frozen=True)
class KeepAlive:
    """V1 only: the legacy hub's own heartbeat (V2 hubs answer pings instead)."""

    uptime_ms: int


HubMessage = Pong | BootStatus | OtaStarted | OtaProgress | OtaFailed | KeepAlive


@dataclass(frozen=True)
class GatewayPing:
    unix_utc_seconds: int


@dataclass(frozen=True)
class GatewayTrigger:
    kind: int


@dataclass(frozen=True)
class GatewayCommands:
    commands: tuple[HubCommand, ...]


@dataclass(frozen=True)
class GatewayOtaRequest:
    version: str


@dataclass(frozen=True)
class GatewayCaptivePortal:
    enabled: bool


GatewayMessage = (
    GatewayPing | GatewayTrigger | GatewayCommands | GatewayOtaRequest | GatewayCaptivePortal
)


_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?",
    re.ASCII,
)


def parse_version(version: str) -> tuple[int, int, int, str, str]:
    """(major, minor, patch, prerelease, build) of "1.5.2[-pre][+build]"; ValueError if not."""
    match = _SEMVER.fullmatch(version)
    if match is None:
        raise ValueError(f"{version!r} is not a version like 1.5.2, 1.5.0-rc.1 or 1.5.2+build")
    major, minor, patch = (int(part) for part in match.group(1, 2, 3))
    if max(major, minor, patch) > 0xFFFF:
        raise ValueError(f"{version!r}: a version number is at most 65535 in the schema")
    return major, minor, patch, match.group(4) or "", match.group(5) or ""


def shifts_998dr_ids(firmware_version: str) -> bool:
    """Whether a hub on this firmware wants Petrainer998DR RF ids shifted right by one bit.

    Firmware up to 1.4.x encoded the 998DR's id one bit off in its RF transmitter
    (fixed in OpenShock/Firmware 9bf87bd, "Improve Petrainer998DR protocol handling",
    first released in 1.5.0-rc.1). OpenShock/API stored the ids the old way until its
    migration "Fix Petrainer998DR RFIDs" (API #134, 2024-11-23) shifted every stored 998DR
    id left by one, and since then its V1 gateway (HubV1Controller.Control) sends
    `id >> 1` for that model. The real gateway does that for every hub on /1/ws/device
    without looking at the firmware version, because only firmware up to 1.4.x connects
    there (1.5.0 asks assignLCG for version 2); we state the rule by version instead, so a
    1.5 hub that someone points at the legacy endpoint is not shifted into the wrong id.
    Raises ValueError on a version that is not SemVer.
    """
    major, minor, _, _, _ = parse_version(firmware_version)
    return (major, minor) < (1, 5)
