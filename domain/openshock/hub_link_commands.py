"""Commands about a hub's link to the gateway: what the hub gateway reports of a connected
hub, what an owner tells a hub besides controls, and live control's ticks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.commands import Command
from domain.openshock.values import Caller

# --- reported by the hub gateway for the hub holding the session ---


@dataclass(frozen=True, kw_only=True)
class RecordHubConnected(Command):
    hub_id: UUID
    session_id: str
    node_id: str
    schema: int  # 2: /2/ws/hub, 1: the legacy /1/ws/device
    firmware_version: str
    user_agent: str


@dataclass(frozen=True, kw_only=True)
class RecordHubLatency(Command):
    hub_id: UUID
    session_id: str
    latency_ms: int
    rssi: int


@dataclass(frozen=True, kw_only=True)
class RecordHubBoot(Command):
    hub_id: UUID
    session_id: str
    boot_type: int
    firmware_version: str
    ota_update_id: int


@dataclass(frozen=True, kw_only=True)
class RecordOtaStarted(Command):
    hub_id: UUID
    session_id: str
    update_id: int
    version: str
    now: datetime


@dataclass(frozen=True, kw_only=True)
class RecordOtaProgress(Command):
    hub_id: UUID
    session_id: str
    update_id: int
    task: int
    progress: float


@dataclass(frozen=True, kw_only=True)
class RecordOtaFailed(Command):
    hub_id: UUID
    session_id: str
    update_id: int
    message: str
    fatal: bool


@dataclass(frozen=True, kw_only=True)
class RecordHubDisconnected(Command):
    hub_id: UUID
    session_id: str
    reason: str


# --- asked by the hub's owner (SignalR /1/hubs/user, sessions only) ---


@dataclass(frozen=True, kw_only=True)
class TriggerHub(Command):
    """Restart, emergency stop, captive portal on or off (domain.openshock.hub_link.TriggerKind)."""

    caller: Caller
    hub_id: UUID
    kind: int


@dataclass(frozen=True, kw_only=True)
class RequestOtaInstall(Command):
    caller: Caller
    hub_id: UUID
    version: str  # SemVer text, "1.5.2" or "1.6.0-beta.1+build"


# --- live control ---


@dataclass(frozen=True, kw_only=True)
class LiveCommand:
    shocker_id: UUID
    type: str  # a ControlType value
    intensity: int
    duration: int  # milliseconds


@dataclass(frozen=True, kw_only=True)
class SendLiveTick(Command):
    """One tick of a hub's live control: the commands the live sessions decided on, each
    already checked against the caller's rights when its frame arrived."""

    hub_id: UUID
    commands: tuple[LiveCommand, ...]
