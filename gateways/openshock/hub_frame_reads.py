"""Reading hub websocket frames: any bytes give a message or a FrameError, at O(frame) cost.

The server reads hub messages, the hub side (simulator, tests) gateway messages; both go
through flatc's generated classes with every read bound-checked (checked_reads.py).
"""

from __future__ import annotations

import struct
from typing import Any

from gateways.openshock.checked_reads import FrameError, checked, checked_root
from gateways.openshock.hub_messages import (
    MAX_FRAME_BYTES,
    BootStatus,
    GatewayCaptivePortal,
    GatewayCommands,
    GatewayMessage,
    GatewayOtaRequest,
    GatewayPing,
    GatewayTrigger,
    HubCommand,
    HubMessage,
    KeepAlive,
    OtaFailed,
    OtaProgress,
    OtaStarted,
    Pong,
)

# flatc's modules, one per schema type (its class and builder functions).
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import BootStatus as v1_boot
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import CaptivePortalConfig as v1_portal
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import GatewayToHubMessage as v1_to_hub
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import (
    GatewayToHubMessagePayload as v1_to_hub_kind,
)
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import HubToGatewayMessage as v1_to_gateway
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import (
    HubToGatewayMessagePayload as v1_to_gateway_kind,
)
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import KeepAlive as v1_keep_alive
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import OtaInstall as v1_ota_install
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import OtaInstallFailed as v1_ota_failed
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import OtaInstallProgress as v1_ota_progress
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import OtaInstallStarted as v1_ota_started
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import ShockerCommandList as v1_command_list
from gateways.openshock.wire.Gateway import BootStatus as v2_boot
from gateways.openshock.wire.Gateway import GatewayToHubMessage as v2_to_hub
from gateways.openshock.wire.Gateway import GatewayToHubMessagePayload as v2_to_hub_kind
from gateways.openshock.wire.Gateway import HubToGatewayMessage as v2_to_gateway
from gateways.openshock.wire.Gateway import HubToGatewayMessagePayload as v2_to_gateway_kind
from gateways.openshock.wire.Gateway import OtaUpdateFailed as v2_ota_failed
from gateways.openshock.wire.Gateway import OtaUpdateProgress as v2_ota_progress
from gateways.openshock.wire.Gateway import OtaUpdateRequest as v2_ota_request
from gateways.openshock.wire.Gateway import OtaUpdateStarted as v2_ota_started
from gateways.openshock.wire.Gateway import Ping as v2_ping
from gateways.openshock.wire.Gateway import Pong as v2_pong
from gateways.openshock.wire.Gateway import ShockerCommandList as v2_command_list
from gateways.openshock.wire.Gateway import Trigger as v2_trigger


def _version_text(version: Any) -> str:
    """The SemVer table as "1.5.2[-pre][+build]"."""
    text = f"{int(version.Major())}.{int(version.Minor())}.{int(version.Patch())}"
    prerelease = _text(version.Prerelease(), "prerelease")
    build = _text(version.Build(), "build")
    return text + (f"-{prerelease}" if prerelease else "") + (f"+{build}" if build else "")


def _text(raw: bytes | None, field: str) -> str:
    if raw is None:
        return ""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FrameError(f"{field} is not UTF-8 ({error.reason})") from None


def _required_version(version: Any, message: str) -> str:
    if version is None:
        raise FrameError(f"{message} without its required version")
    return _version_text(checked(version))


def _check_frame(frame: bytes, schema: int) -> None:
    if schema not in (1, 2):
        raise ValueError(f"schema {schema}: 1 (V1, /1/ws/device) or 2 (/2/ws/hub)")
    if len(frame) > MAX_FRAME_BYTES:
        raise FrameError(f"{len(frame)} bytes: a frame is at most {MAX_FRAME_BYTES}")


def _payload(root: Any, names: dict[int, tuple[str, Any]]) -> Any:
    """The union member as its checked generated object."""
    kind = int(root.PayloadType())
    if kind not in names:
        raise FrameError(f"unknown payload type {kind}" if kind else "no payload")
    table = root.Payload()
    if table is None:
        raise FrameError(f"payload type {kind} ({names[kind][0]}) without its payload")
    member = names[kind][1]()
    member.Init(table.Bytes, table.Pos)
    return checked(member)


_V2_FROM_HUB = {
    v2_to_gateway_kind.HubToGatewayMessagePayload.Pong: ("Pong", v2_pong.Pong),
    v2_to_gateway_kind.HubToGatewayMessagePayload.BootStatus: ("BootStatus", v2_boot.BootStatus),
    v2_to_gateway_kind.HubToGatewayMessagePayload.OtaUpdateStarted: (
        "OtaUpdateStarted",
        v2_ota_started.OtaUpdateStarted,
    ),
    v2_to_gateway_kind.HubToGatewayMessagePayload.OtaUpdateProgress: (
        "OtaUpdateProgress",
        v2_ota_progress.OtaUpdateProgress,
    ),
    v2_to_gateway_kind.HubToGatewayMessagePayload.OtaUpdateFailed: (
        "OtaUpdateFailed",
        v2_ota_failed.OtaUpdateFailed,
    ),
}
_V1_FROM_HUB = {
    v1_to_gateway_kind.HubToGatewayMessagePayload.KeepAlive: (
        "KeepAlive",
        v1_keep_alive.KeepAlive,
    ),
    v1_to_gateway_kind.HubToGatewayMessagePayload.BootStatus: ("BootStatus", v1_boot.BootStatus),
    v1_to_gateway_kind.HubToGatewayMessagePayload.OtaInstallStarted: (
        "OtaInstallStarted",
        v1_ota_started.OtaInstallStarted,
    ),
    v1_to_gateway_kind.HubToGatewayMessagePayload.OtaInstallProgress: (
        "OtaInstallProgress",
        v1_ota_progress.OtaInstallProgress,
    ),
    v1_to_gateway_kind.HubToGatewayMessagePayload.OtaInstallFailed: (
        "OtaInstallFailed",
        v1_ota_failed.OtaInstallFailed,
    ),
}


def read_hub_message(frame: bytes, schema: int) -> HubMessage:
    """A hub's frame (schema 2: HubToGatewayMessage, 1: the V1 one, whose OtaInstall*
    messages come out as the Ota* classes); FrameError if it is not one."""
    _check_frame(frame, schema)
    try:
        if schema == 2:
            root = checked_root(frame, v2_to_gateway.HubToGatewayMessage)
            member = _payload(root, _V2_FROM_HUB)
        else:
            root = checked_root(frame, v1_to_gateway.HubToGatewayMessage)
            member = _payload(root, _V1_FROM_HUB)
        return _hub_message(member)
    except (struct.error, IndexError, TypeError, OverflowError) as error:  # the runtime's checks
        raise FrameError(f"malformed FlatBuffer ({error})") from None


def _hub_message(member: Any) -> HubMessage:
    if isinstance(member, v2_pong.Pong):
        return Pong(uptime_ms=int(member.Uptime()), rssi=int(member.Rssi()))
    if isinstance(member, v1_keep_alive.KeepAlive):
        return KeepAlive(uptime_ms=int(member.Uptime()))
    if isinstance(member, v2_boot.BootStatus | v1_boot.BootStatus):
        return BootStatus(
            boot_type=int(member.BootType()),
            firmware_version=_required_version(member.FirmwareVersion(), "BootStatus"),
            ota_update_id=int(member.OtaUpdateId()),
        )
    if isinstance(member, v2_ota_started.OtaUpdateStarted | v1_ota_started.OtaInstallStarted):
        return OtaStarted(
            update_id=int(member.UpdateId()),
            version=_required_version(member.Version(), "OtaUpdateStarted"),
        )
    if isinstance(member, v2_ota_progress.OtaUpdateProgress | v1_ota_progress.OtaInstallProgress):
        return OtaProgress(
            update_id=int(member.UpdateId()),
            task=int(member.Task()),
            progress=float(member.Progress()),
        )
    return OtaFailed(
        update_id=int(member.UpdateId()),
        message=_text(member.Message(), "message"),
        fatal=bool(member.Fatal()),
    )


_V2_TO_HUB = {
    v2_to_hub_kind.GatewayToHubMessagePayload.Ping: ("Ping", v2_ping.Ping),
    v2_to_hub_kind.GatewayToHubMessagePayload.Trigger: ("Trigger", v2_trigger.Trigger),
    v2_to_hub_kind.GatewayToHubMessagePayload.ShockerCommandList: (
        "ShockerCommandList",
        v2_command_list.ShockerCommandList,
    ),
    v2_to_hub_kind.GatewayToHubMessagePayload.OtaUpdateRequest: (
        "OtaUpdateRequest",
        v2_ota_request.OtaUpdateRequest,
    ),
}
_V1_TO_HUB = {
    v1_to_hub_kind.GatewayToHubMessagePayload.ShockerCommandList: (
        "ShockerCommandList",
        v1_command_list.ShockerCommandList,
    ),
    v1_to_hub_kind.GatewayToHubMessagePayload.CaptivePortalConfig: (
        "CaptivePortalConfig",
        v1_portal.CaptivePortalConfig,
    ),
    v1_to_hub_kind.GatewayToHubMessagePayload.OtaInstall: ("OtaInstall", v1_ota_install.OtaInstall),
}


def read_gateway_message(frame: bytes, schema: int) -> GatewayMessage:
    """A gateway's frame as the hub reads it (ids as sent: V1 998DR ids stay shifted)."""
    _check_frame(frame, schema)
    try:
        if schema == 2:
            root = checked_root(frame, v2_to_hub.GatewayToHubMessage)
            member = _payload(root, _V2_TO_HUB)
        else:
            root = checked_root(frame, v1_to_hub.GatewayToHubMessage)
            member = _payload(root, _V1_TO_HUB)
        return _gateway_message(member)
    except (struct.error, IndexError, TypeError, OverflowError) as error:
        raise FrameError(f"malformed FlatBuffer ({error})") from None


def _gateway_message(member: Any) -> GatewayMessage:
    if isinstance(member, v2_ping.Ping):
        return GatewayPing(unix_utc_seconds=int(member.UnixUtcTime()))
    if isinstance(member, v2_trigger.Trigger):
        return GatewayTrigger(kind=int(member.Type()))
    if isinstance(member, v1_portal.CaptivePortalConfig):
        return GatewayCaptivePortal(enabled=bool(member.Enabled()))
    if isinstance(member, v2_ota_request.OtaUpdateRequest | v1_ota_install.OtaInstall):
        return GatewayOtaRequest(version=_required_version(member.Version(), "OtaUpdateRequest"))
    if member.CommandsIsNone():
        raise FrameError("ShockerCommandList without its required commands")
    # VectorLen is bounded by the frame's size, and each element's reads are checked.
    commands = []
    for index in range(int(member.CommandsLength())):
        command = checked(member.Commands(index))
        commands.append(
            HubCommand(
                model=int(command.Model()),
                rf_id=int(command.Id()),
                type=int(command.Type()),
                intensity=int(command.Intensity()),
                duration=int(command.Duration()),
            )
        )
    return GatewayCommands(commands=tuple(commands))
