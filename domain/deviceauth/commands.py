"""Commands of the DeviceAuth module."""

from __future__ import annotations

from dataclasses import dataclass

from domain.commands import Command


@dataclass(frozen=True, kw_only=True)
class SetDevicePublicKey(Command):
    device_identifier: str
    public_key: str


@dataclass(frozen=True, kw_only=True)
class UploadAccessList(Command):
    """Rows of an upload that was checked whole before any was applied; a large upload
    is applied as several of these, one transaction each."""

    rows: tuple[tuple[str, str], ...]  # (device identifier, public key)


@dataclass(frozen=True, kw_only=True)
class ClearDevicePublicKey(Command):
    device_identifier: str


@dataclass(frozen=True, kw_only=True)
class ClearAllPublicKeys(Command):
    device_identifiers: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RecordChallengePassed(Command):
    device_identifier: str
    public_key: str


@dataclass(frozen=True, kw_only=True)
class RecordConnectionRefused(Command):
    device_identifier: str
    reason: str
