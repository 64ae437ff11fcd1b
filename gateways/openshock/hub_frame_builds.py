"""Building hub websocket frames with flatc's generated builders: the gateway's messages
(server side) and the hub's (simulator, tests). A value out of its field's range is a
ValueError, never a frame the other side would misread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flatbuffers

from gateways.openshock.hub_messages import (
    BootStatus,
    HubCommand,
    HubMessage,
    KeepAlive,
    OtaProgress,
    OtaStarted,
    Pong,
    parse_version,
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
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import ShockerCommand as v1_command
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
from gateways.openshock.wire.Gateway import ShockerCommand as v2_command
from gateways.openshock.wire.Gateway import ShockerCommandList as v2_command_list
from gateways.openshock.wire.Gateway import Trigger as v2_trigger
from gateways.openshock.wire.Gateway import TriggerType as v2_trigger_kind
from gateways.openshock.wire.Types import SemVer as semver
from gateways.openshock.wire.Types import ShockerModelType as models

_FLOAT32_MAX = 3.4028234663852886e38


def _build_version(builder: flatbuffers.Builder, version: str) -> int:
    major, minor, patch, prerelease, build = parse_version(version)
    prerelease_at = builder.CreateString(prerelease) if prerelease else None
    build_at = builder.CreateString(build) if build else None
    semver.Start(builder)
    semver.AddMajor(builder, major)
    semver.AddMinor(builder, minor)
    semver.AddPatch(builder, patch)
    if prerelease_at is not None:
        semver.AddPrerelease(builder, prerelease_at)
    if build_at is not None:
        semver.AddBuild(builder, build_at)
    at: int = semver.End(builder)
    return at


def _schema(schema: int) -> int:
    if schema not in (1, 2):
        raise ValueError(f"schema {schema}: 1 (V1, /1/ws/device) or 2 (/2/ws/hub)")
    return schema


def _unsigned(value: int, bits: int, field: str) -> int:
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{field} {value} is not a {bits}-bit unsigned number")
    return value


def _signed(value: int, bits: int, field: str) -> int:
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise ValueError(f"{field} {value} is not a {bits}-bit signed number")
    return value


def _float32(value: float, field: str) -> float:
    if math.isfinite(value) and abs(value) > _FLOAT32_MAX:
        raise ValueError(f"{field} {value} does not fit a 32-bit float")
    return value


def _finish(builder: flatbuffers.Builder, root: int) -> bytes:
    builder.Finish(root)
    return bytes(builder.Output())


def _to_hub(kind: int, payload: int, builder: flatbuffers.Builder, schema: int) -> bytes:
    message = v2_to_hub if schema == 2 else v1_to_hub
    message.Start(builder)
    message.AddPayloadType(builder, kind)
    message.AddPayload(builder, payload)
    return _finish(builder, message.End(builder))


def _to_gateway(kind: int, payload: int, builder: flatbuffers.Builder, schema: int) -> bytes:
    message = v2_to_gateway if schema == 2 else v1_to_gateway
    message.Start(builder)
    message.AddPayloadType(builder, kind)
    message.AddPayload(builder, payload)
    return _finish(builder, message.End(builder))


def command_list(
    commands: Sequence[HubCommand], schema: int, *, legacy_998dr_ids: bool = False
) -> bytes:
    """A ShockerCommandList (tables in schema 2, structs in V1).

    `legacy_998dr_ids` (V1 only, ignored with schema 2 as by the real gateway): send
    Petrainer998DR ids shifted right by one bit, as OpenShock's V1 gateway does for the
    firmware up to 1.4.x that encodes them one bit off; the caller decides from the hub's
    Firmware-Version with `shifts_998dr_ids`. ValueError on a field out of its range.
    """
    _schema(schema)
    for command in commands:
        _unsigned(command.model, 8, "model")
        _unsigned(command.rf_id, 16, "rf_id")
        _unsigned(command.type, 8, "type")
        _unsigned(command.intensity, 8, "intensity")
        _unsigned(command.duration, 16, "duration")
    builder = flatbuffers.Builder(64 + 16 * len(commands))
    if schema == 2:
        tables = []
        for command in commands:
            v2_command.Start(builder)
            v2_command.AddModel(builder, command.model)
            v2_command.AddId(builder, command.rf_id)
            v2_command.AddType(builder, command.type)
            v2_command.AddIntensity(builder, command.intensity)
            v2_command.AddDuration(builder, command.duration)
            tables.append(v2_command.End(builder))
        v2_command_list.StartCommandsVector(builder, len(tables))
        for table in reversed(tables):
            builder.PrependUOffsetTRelative(table)
        vector = builder.EndVector()
        v2_command_list.Start(builder)
        v2_command_list.AddCommands(builder, vector)
        payload = v2_command_list.End(builder)
        kind = v2_to_hub_kind.GatewayToHubMessagePayload.ShockerCommandList
        return _to_hub(kind, payload, builder, schema)
    v1_command_list.StartCommandsVector(builder, len(commands))
    for command in reversed(commands):
        shift = legacy_998dr_ids and command.model == models.ShockerModelType.Petrainer998DR
        v1_command.CreateShockerCommand(
            builder,
            command.model,
            command.rf_id >> 1 if shift else command.rf_id,
            command.type,
            command.intensity,
            command.duration,
        )
    vector = builder.EndVector()
    v1_command_list.Start(builder)
    v1_command_list.AddCommands(builder, vector)
    payload = v1_command_list.End(builder)
    kind = v1_to_hub_kind.GatewayToHubMessagePayload.ShockerCommandList
    return _to_hub(kind, payload, builder, schema)


def ping(unix_utc_seconds: int) -> bytes:
    """A Ping (schema 2 only: V1 hubs send KeepAlive on their own)."""
    builder = flatbuffers.Builder(64)
    v2_ping.Start(builder)
    v2_ping.AddUnixUtcTime(builder, _unsigned(unix_utc_seconds, 64, "unix_utc_seconds"))
    payload = v2_ping.End(builder)
    return _to_hub(v2_to_hub_kind.GatewayToHubMessagePayload.Ping, payload, builder, 2)


def trigger(kind: int) -> bytes:
    """A Trigger (schema 2 only): 0 Restart, 1 EmergencyStop, 2/3 CaptivePortalEnable/Disable."""
    if not 0 <= kind <= v2_trigger_kind.TriggerType.CaptivePortalDisable:
        raise ValueError(f"trigger kind {kind}: 0 Restart, 1 EmergencyStop, 2/3 captive portal")
    builder = flatbuffers.Builder(64)
    v2_trigger.Start(builder)
    v2_trigger.AddType(builder, kind)
    payload = v2_trigger.End(builder)
    return _to_hub(v2_to_hub_kind.GatewayToHubMessagePayload.Trigger, payload, builder, 2)


def captive_portal_v1(enabled: bool) -> bytes:
    """V1's CaptivePortalConfig (schema 2 uses `trigger`)."""
    builder = flatbuffers.Builder(64)
    payload = v1_portal.CreateCaptivePortalConfig(builder, enabled)
    kind = v1_to_hub_kind.GatewayToHubMessagePayload.CaptivePortalConfig
    return _to_hub(kind, payload, builder, 1)


def ota_request(version: str, schema: int) -> bytes:
    """OtaUpdateRequest (schema 2) or OtaInstall (V1); ValueError if `version` is not SemVer."""
    _schema(schema)
    builder = flatbuffers.Builder(128)
    version_at = _build_version(builder, version)
    if schema == 2:
        v2_ota_request.Start(builder)
        v2_ota_request.AddVersion(builder, version_at)
        payload = v2_ota_request.End(builder)
        kind = v2_to_hub_kind.GatewayToHubMessagePayload.OtaUpdateRequest
        return _to_hub(kind, payload, builder, schema)
    v1_ota_install.Start(builder)
    v1_ota_install.AddVersion(builder, version_at)
    payload = v1_ota_install.End(builder)
    return _to_hub(v1_to_hub_kind.GatewayToHubMessagePayload.OtaInstall, payload, builder, 1)


def hub_frame(message: HubMessage, schema: int) -> bytes:
    """A hub's frame, as firmware writes it. Pong is schema 2 only, KeepAlive V1 only."""
    _schema(schema)
    builder = flatbuffers.Builder(128)
    v2 = schema == 2
    kinds = v2_to_gateway_kind.HubToGatewayMessagePayload
    v1_kinds = v1_to_gateway_kind.HubToGatewayMessagePayload
    if isinstance(message, Pong):
        if not v2:
            raise ValueError("Pong is schema 2 only (V1 hubs send KeepAlive)")
        v2_pong.Start(builder)
        v2_pong.AddUptime(builder, _unsigned(message.uptime_ms, 64, "uptime_ms"))
        v2_pong.AddRssi(builder, _signed(message.rssi, 32, "rssi"))
        return _to_gateway(kinds.Pong, v2_pong.End(builder), builder, schema)
    if isinstance(message, KeepAlive):
        if v2:
            raise ValueError("KeepAlive is V1 only (schema 2 hubs answer Ping with Pong)")
        uptime = _unsigned(message.uptime_ms, 64, "uptime_ms")
        payload = v1_keep_alive.CreateKeepAlive(builder, uptime)
        return _to_gateway(v1_kinds.KeepAlive, payload, builder, schema)
    if isinstance(message, BootStatus):
        boot: Any = v2_boot if v2 else v1_boot
        version_at = _build_version(builder, message.firmware_version)
        boot.Start(builder)
        boot.AddBootType(builder, _unsigned(message.boot_type, 8, "boot_type"))
        boot.AddFirmwareVersion(builder, version_at)
        boot.AddOtaUpdateId(builder, _signed(message.ota_update_id, 32, "ota_update_id"))
        kind = kinds.BootStatus if v2 else v1_kinds.BootStatus
        return _to_gateway(kind, boot.End(builder), builder, schema)
    if isinstance(message, OtaStarted):
        started: Any = v2_ota_started if v2 else v1_ota_started
        version_at = _build_version(builder, message.version)
        started.Start(builder)
        started.AddUpdateId(builder, _signed(message.update_id, 32, "update_id"))
        started.AddVersion(builder, version_at)
        kind = kinds.OtaUpdateStarted if v2 else v1_kinds.OtaInstallStarted
        return _to_gateway(kind, started.End(builder), builder, schema)
    if isinstance(message, OtaProgress):
        progress: Any = v2_ota_progress if v2 else v1_ota_progress
        progress.Start(builder)
        progress.AddUpdateId(builder, _signed(message.update_id, 32, "update_id"))
        progress.AddTask(builder, _unsigned(message.task, 8, "task"))
        progress.AddProgress(builder, _float32(message.progress, "progress"))
        kind = kinds.OtaUpdateProgress if v2 else v1_kinds.OtaInstallProgress
        return _to_gateway(kind, progress.End(builder), builder, schema)
    failed: Any = v2_ota_failed if v2 else v1_ota_failed
    text_at = builder.CreateString(message.message)
    failed.Start(builder)
    failed.AddUpdateId(builder, _signed(message.update_id, 32, "update_id"))
    failed.AddMessage(builder, text_at)
    failed.AddFatal(builder, message.fatal)
    kind = kinds.OtaUpdateFailed if v2 else v1_kinds.OtaInstallFailed
    return _to_gateway(kind, failed.End(builder), builder, schema)
