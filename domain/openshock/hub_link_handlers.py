"""Decisions about a hub's link: what its gateway session reports, what its owner tells it,
and live control's ticks.

Reports name their session: a report from a session that is no longer the hub's (an old
socket still closing after the hub reconnected, maybe on another node) changes nothing.
"""

from __future__ import annotations

import re
from uuid import UUID

from domain.commands import UnitOfWork
from domain.openshock.control import LiveControlTick
from domain.openshock.errors import HubNotFound, invalid
from domain.openshock.hub import Hub
from domain.openshock.hub_link import BootType, HubLink, TriggerKind, hub_link_id
from domain.openshock.hub_link_commands import (
    RecordHubBoot,
    RecordHubConnected,
    RecordHubDisconnected,
    RecordHubLatency,
    RecordOtaFailed,
    RecordOtaProgress,
    RecordOtaStarted,
    RequestOtaInstall,
    SendLiveTick,
    TriggerHub,
)
from domain.openshock.shocker import Shocker
from domain.openshock.values import MAX_INTENSITY, MIN_INTENSITY, Caller, ControlType

# SemVer 2.0 as the hub protocol carries it: three uint16 numbers, optional pre-release and
# build identifiers.
_SEMVER = re.compile(
    r"(0|[1-9]\d{0,4})\.(0|[1-9]\d{0,4})\.(0|[1-9]\d{0,4})"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
MAX_VERSION_LENGTH = 64
MAX_USER_AGENT_LENGTH = 256
MAX_OTA_MESSAGE_LENGTH = 512
_TRIGGERS = frozenset(
    {
        TriggerKind.RESTART,
        TriggerKind.EMERGENCY_STOP,
        TriggerKind.CAPTIVE_PORTAL_ENABLE,
        TriggerKind.CAPTIVE_PORTAL_DISABLE,
    }
)


def is_semver(text: str) -> bool:
    if len(text) > MAX_VERSION_LENGTH:
        return False
    found = _SEMVER.fullmatch(text)
    return found is not None and all(int(found.group(i)) <= 65535 for i in (1, 2, 3))


def record_hub_connected(command: RecordHubConnected, uow: UnitOfWork) -> None:
    hub = uow.get(Hub, command.hub_id)
    if hub is None or hub.deleted:
        raise HubNotFound()
    meta = command.context.as_metadata()
    link = uow.get(HubLink, hub_link_id(str(hub.id)))
    if link is None:
        link = HubLink(hub_id=str(hub.id), owner_id=hub.owner_id, meta=meta)
        uow.add(link)
    link.connect(
        link.hub_id,
        command.session_id,
        command.node_id,
        command.schema,
        command.firmware_version[:MAX_VERSION_LENGTH],
        command.user_agent[:MAX_USER_AGENT_LENGTH],
        meta=meta,
    )


def record_hub_latency(command: RecordHubLatency, uow: UnitOfWork) -> None:
    link = _current(uow, command.hub_id, command.session_id)
    if link is not None:
        link.measure(
            link.hub_id,
            command.session_id,
            command.latency_ms,
            command.rssi,
            meta=command.context.as_metadata(),
        )


def record_hub_boot(command: RecordHubBoot, uow: UnitOfWork) -> None:
    link = _current(uow, command.hub_id, command.session_id)
    if link is None:
        return
    meta = command.context.as_metadata()
    link.boot(
        link.hub_id,
        command.session_id,
        command.boot_type,
        command.firmware_version[:MAX_VERSION_LENGTH],
        command.ota_update_id,
        meta=meta,
    )
    # As the real gateway reads a boot: new firmware finishes the update it names, a rollback
    # or a normal boot with an update still pending ends that update as rolled back.
    if not link.is_pending(command.ota_update_id):
        return
    if command.boot_type == BootType.NEW_FIRMWARE:
        link.finish_ota(link.hub_id, command.ota_update_id, meta=meta)
    else:
        link.roll_back_ota(link.hub_id, command.ota_update_id, meta=meta)


def record_ota_started(command: RecordOtaStarted, uow: UnitOfWork) -> None:
    link = _current(uow, command.hub_id, command.session_id)
    if link is not None and is_semver(command.version):
        link.start_ota(
            link.hub_id,
            command.update_id,
            command.version,
            command.now,
            meta=command.context.as_metadata(),
        )


def record_ota_progress(command: RecordOtaProgress, uow: UnitOfWork) -> None:
    link = _current(uow, command.hub_id, command.session_id)
    if link is not None:
        progress = command.progress if 0.0 <= command.progress <= 1.0 else 0.0
        link.progress_ota(
            link.hub_id,
            command.update_id,
            command.task,
            progress,
            meta=command.context.as_metadata(),
        )


def record_ota_failed(command: RecordOtaFailed, uow: UnitOfWork) -> None:
    link = _current(uow, command.hub_id, command.session_id)
    if link is not None:
        link.fail_ota(
            link.hub_id,
            command.update_id,
            command.message[:MAX_OTA_MESSAGE_LENGTH],
            command.fatal,
            meta=command.context.as_metadata(),
        )


def record_hub_disconnected(command: RecordHubDisconnected, uow: UnitOfWork) -> None:
    link = _current(uow, command.hub_id, command.session_id)
    if link is not None:
        link.disconnect(
            link.hub_id, command.session_id, command.reason, meta=command.context.as_metadata()
        )


def trigger_hub(command: TriggerHub, uow: UnitOfWork) -> None:
    if command.kind not in _TRIGGERS:
        raise invalid("type", "must be Restart, EmergencyStop, CaptivePortalEnable or Disable")
    meta = command.context.as_metadata()
    link = _owned_link(uow, command.caller, command.hub_id, meta)
    link.trigger(link.hub_id, command.kind, meta=meta)


def request_ota_install(command: RequestOtaInstall, uow: UnitOfWork) -> None:
    if not is_semver(command.version):
        raise invalid("version", "must be a version such as 1.5.2")
    meta = command.context.as_metadata()
    link = _owned_link(uow, command.caller, command.hub_id, meta)
    link.request_ota(link.hub_id, command.version, meta=meta)


def send_live_tick(command: SendLiveTick, uow: UnitOfWork) -> UUID | None:
    hub = uow.get(Hub, command.hub_id)
    if hub is None or hub.deleted:
        raise HubNotFound()
    commands = []
    for one in command.commands:
        shocker = uow.get(Shocker, one.shocker_id)
        # A shocker removed or moved since its frame arrived is left out, not refused: the
        # rest of the tick still goes.
        if shocker is None or shocker.deleted or shocker.hub_id != str(hub.id):
            continue
        if one.type not in ControlType.__members__.values():
            raise invalid("type", "must be Stop, Shock, Vibrate or Sound")
        if not MIN_INTENSITY <= one.intensity <= MAX_INTENSITY or not 0 < one.duration <= 65535:
            raise invalid("intensity", "out of range")
        commands.append(
            {
                "shocker_id": str(shocker.id),
                "rf_id": shocker.rf_id,
                "model": shocker.model,
                "type": one.type,
                "intensity": one.intensity,
                "duration": one.duration,
            }
        )
    if not commands:
        return None
    tick = LiveControlTick(
        hub_id=str(hub.id),
        owner_id=hub.owner_id,
        commands=commands,
        meta=command.context.as_metadata(),
    )
    uow.add(tick)
    return tick.id


def _current(uow: UnitOfWork, hub_id: UUID, session_id: str) -> HubLink | None:
    link = uow.get(HubLink, hub_link_id(str(hub_id)))
    return link if link is not None and link.holds(session_id) else None


def _owned_link(
    uow: UnitOfWork, caller: Caller, hub_id: UUID, meta: dict[str, str | None]
) -> HubLink:
    hub = uow.get(Hub, hub_id)
    if hub is None or not hub.is_owned_by(str(caller.user_id)):
        raise HubNotFound()
    link = uow.get(HubLink, hub_link_id(str(hub.id)))
    if link is None:
        # Never connected yet: what it is told is still recorded (and dropped, as the real
        # API drops what goes to an offline hub).
        link = HubLink(hub_id=str(hub.id), owner_id=hub.owner_id, meta=meta)
        uow.add(link)
    return link


HANDLERS = {
    RecordHubConnected: record_hub_connected,
    RecordHubLatency: record_hub_latency,
    RecordHubBoot: record_hub_boot,
    RecordOtaStarted: record_ota_started,
    RecordOtaProgress: record_ota_progress,
    RecordOtaFailed: record_ota_failed,
    RecordHubDisconnected: record_hub_disconnected,
    TriggerHub: trigger_hub,
    RequestOtaInstall: request_ota_install,
    SendLiveTick: send_live_tick,
}
