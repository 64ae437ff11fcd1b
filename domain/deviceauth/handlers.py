"""Decisions of the DeviceAuth module: plain functions over a unit of work."""

from __future__ import annotations

from domain.commands import UnitOfWork
from domain.context import CommandContext
from domain.deviceauth.commands import (
    ClearAllPublicKeys,
    ClearDevicePublicKey,
    RecordChallengePassed,
    RecordConnectionRefused,
    SetDevicePublicKey,
    UploadAccessList,
)
from domain.deviceauth.device_access import DeviceAccess, device_access_id
from domain.deviceauth.identifiers import normalise_device_identifier
from domain.deviceauth.public_keys import KeyProblem, inspect_public_key
from domain.errors import DomainError


def _load_or_register(
    uow: UnitOfWork, device_identifier: str, context: CommandContext
) -> DeviceAccess:
    identifier = normalise_device_identifier(device_identifier)
    device = uow.get(DeviceAccess, device_access_id(identifier))
    if device is None:
        device = DeviceAccess(device_identifier=identifier, meta=context.as_metadata())
        uow.add(device)
    return device


def _set_key(uow: UnitOfWork, identifier: str, public_key: str, context: CommandContext) -> None:
    # Kept exactly as given: integrators read back what they uploaded.
    key = public_key
    if not key.strip():
        raise DomainError("publicKey must not be empty")
    device = _load_or_register(uow, identifier, context)
    if device.public_key == key:
        return  # Re-uploading the same list must not make proven devices unknown again.
    check = inspect_public_key(key)
    if check.problem_code is KeyProblem.PRIVATE_KEY:
        # Keys are readable over the API and pushed to listeners: never keep a private one.
        raise DomainError(
            f"the key for {device.device_identifier} is a private key; send only the public key"
        )
    device.set_public_key(
        device_identifier=device.device_identifier,
        public_key=key,
        key_type=check.key_type,
        key_problem=check.problem,
        meta=context.as_metadata(),
    )


def set_device_public_key(command: SetDevicePublicKey, uow: UnitOfWork) -> None:
    _set_key(uow, command.device_identifier, command.public_key, command.context)


def upload_access_list(command: UploadAccessList, uow: UnitOfWork) -> None:
    for identifier, public_key in command.rows:
        _set_key(uow, identifier, public_key, command.context)


def clear_device_public_key(command: ClearDevicePublicKey, uow: UnitOfWork) -> None:
    identifier = normalise_device_identifier(command.device_identifier)
    device = uow.get(DeviceAccess, device_access_id(identifier))
    if device is None or (device.public_key is None and not device.known):
        return
    device.clear_public_key(
        device_identifier=device.device_identifier, meta=command.context.as_metadata()
    )


def clear_all_public_keys(command: ClearAllPublicKeys, uow: UnitOfWork) -> None:
    for identifier in command.device_identifiers:
        clear_device_public_key(
            ClearDevicePublicKey(device_identifier=identifier, context=command.context), uow
        )


def record_challenge_passed(command: RecordChallengePassed, uow: UnitOfWork) -> None:
    device = _load_or_register(uow, command.device_identifier, command.context)
    if device.public_key != command.public_key:
        # The key changed while the device was answering: its proof is for a key we no longer hold.
        raise DomainError("public key changed during the challenge")
    if not device.key_usable:
        raise DomainError(f"the registered public key is not usable: {device.key_problem}")
    device.pass_challenge(
        device_identifier=device.device_identifier,
        public_key=command.public_key,
        meta=command.context.as_metadata(),
    )


def record_connection_refused(command: RecordConnectionRefused, uow: UnitOfWork) -> None:
    device = _load_or_register(uow, command.device_identifier, command.context)
    device.refuse_connection(
        device_identifier=device.device_identifier,
        reason=command.reason,
        public_key=device.public_key,
        meta=command.context.as_metadata(),
    )


HANDLERS = {
    SetDevicePublicKey: set_device_public_key,
    UploadAccessList: upload_access_list,
    ClearDevicePublicKey: clear_device_public_key,
    ClearAllPublicKeys: clear_all_public_keys,
    RecordChallengePassed: record_challenge_passed,
    RecordConnectionRefused: record_connection_refused,
}
