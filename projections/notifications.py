"""Who is told what on the integrators' event socket: DEVICE_AUTH_UPDATE, by permission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.deviceauth.device_access import DeviceAccess
from projections.records import LogRecord


@dataclass(frozen=True)
class Notification:
    position: int
    # Every principal holding this permission receives it.
    required_permission: str
    payload: dict[str, Any]


_DEVICE_AUTH_CHANGES = (
    DeviceAccess.PublicKeySet,
    DeviceAccess.PublicKeyCleared,
    DeviceAccess.ChallengePassed,
)


def notifications_for(record: LogRecord) -> list[Notification]:
    if isinstance(record.event, _DEVICE_AUTH_CHANGES) or _is_unknown_attempt(record):
        return [_device_auth_update(record)]
    return []


def _is_unknown_attempt(record: LogRecord) -> bool:
    return (
        isinstance(record.event, DeviceAccess.ConnectionRefused)
        and record.payload.get("public_key") is None
    )


def _device_auth_update(record: LogRecord) -> Notification:
    payload = record.payload
    public_key = payload.get("public_key")
    message: dict[str, Any] = {
        "type": "DEVICE_AUTH_UPDATE",
        "deviceIdentifier": payload["device_identifier"],
        "unknown": not isinstance(record.event, DeviceAccess.ChallengePassed),
        "position": record.position,
    }
    if public_key is not None and not isinstance(record.event, DeviceAccess.PublicKeyCleared):
        message["publicKey"] = public_key
    return Notification(record.position, "deviceAuth:read", message)
