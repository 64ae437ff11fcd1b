"""Notification streams: who must be told what, derived from each event as it is logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.records import LogRecord


@dataclass(frozen=True)
class Notification:
    position: int
    # Every principal holding this permission receives it.
    required_permission: str
    payload: dict[str, Any]


_DEVICE_AUTH_CHANGES = {
    "DeviceAccess.PublicKeySet",
    "DeviceAccess.PublicKeyCleared",
    "DeviceAccess.ChallengePassed",
}


def notifications_for(record: LogRecord) -> list[Notification]:
    if record.type in _DEVICE_AUTH_CHANGES or _is_unknown_attempt(record):
        return [_device_auth_update(record)]
    return []


def _is_unknown_attempt(record: LogRecord) -> bool:
    return (
        record.type == "DeviceAccess.ConnectionRefused" and record.payload.get("public_key") is None
    )


def _device_auth_update(record: LogRecord) -> Notification:
    payload = record.payload
    public_key = payload.get("public_key")
    message: dict[str, Any] = {
        "type": "DEVICE_AUTH_UPDATE",
        "deviceIdentifier": payload["device_identifier"],
        "unknown": record.type != "DeviceAccess.ChallengePassed",
        "position": record.position,
    }
    if public_key is not None and record.type != "DeviceAccess.PublicKeyCleared":
        message["publicKey"] = public_key
    return Notification(record.position, "deviceAuth:read", message)
