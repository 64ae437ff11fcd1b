"""DeviceAuth decisions, pure: no store, no I/O."""

from __future__ import annotations

import pytest

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
from domain.deviceauth.handlers import HANDLERS
from domain.errors import DomainError
from tests.keys import make_key
from tests.unit.fakes import MemoryUnitOfWork

CONTEXT = CommandContext(actor_id="u1", actor_kind="api_token", credential_id="t1")


def device_in(uow: MemoryUnitOfWork, identifier: str) -> DeviceAccess:
    found = uow.get(DeviceAccess, device_access_id(identifier))
    assert found is not None
    return found


def test_setting_a_key_registers_the_device_in_upper_case() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    key = make_key("ed25519")
    uow.run(SetDevicePublicKey(device_identifier="abc-1", public_key=key.pem, context=CONTEXT))
    device = device_in(uow, "ABC-1")
    assert device.device_identifier == "ABC-1"
    assert device.public_key == key.pem
    assert device.key_usable and device.unknown
    events = device.collect_events()
    assert [type(e).__name__ for e in events] == ["Registered", "PublicKeySet"]
    assert events[1].meta["credential_id"] == "t1"  # type: ignore[attr-defined]


def test_an_unusable_key_is_kept_with_its_problem() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    uow.run(
        SetDevicePublicKey(
            device_identifier="d", public_key=make_key("ecdsa-p384").pem, context=CONTEXT
        )
    )
    device = device_in(uow, "D")
    assert device.public_key is not None and not device.key_usable
    assert device.key_problem and "secp384r1" in device.key_problem


def test_the_same_key_again_changes_nothing() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    key = make_key("ed25519").pem
    uow.run(SetDevicePublicKey(device_identifier="d", public_key=key, context=CONTEXT))
    uow.run(RecordChallengePassed(device_identifier="d", public_key=key, context=CONTEXT))
    uow.run(SetDevicePublicKey(device_identifier="D", public_key=key, context=CONTEXT))
    assert device_in(uow, "D").known


def test_a_new_key_makes_a_known_device_unknown() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    first = make_key("ed25519").pem
    uow.run(SetDevicePublicKey(device_identifier="d", public_key=first, context=CONTEXT))
    uow.run(RecordChallengePassed(device_identifier="d", public_key=first, context=CONTEXT))
    uow.run(
        SetDevicePublicKey(
            device_identifier="d", public_key=make_key("ed25519").pem, context=CONTEXT
        )
    )
    assert device_in(uow, "D").unknown


def test_a_challenge_for_a_replaced_key_is_refused() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    uow.run(
        SetDevicePublicKey(
            device_identifier="d", public_key=make_key("ed25519").pem, context=CONTEXT
        )
    )
    with pytest.raises(DomainError, match="changed"):
        uow.run(RecordChallengePassed(device_identifier="d", public_key="old", context=CONTEXT))


def test_clearing_keeps_the_device_and_its_history() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    uow.run(SetDevicePublicKey(device_identifier="d", public_key="k", context=CONTEXT))
    uow.run(ClearDevicePublicKey(device_identifier="d", context=CONTEXT))
    device = device_in(uow, "D")
    assert device.public_key is None and device.unknown
    assert device.version == 3
    uow.run(ClearDevicePublicKey(device_identifier="d", context=CONTEXT))
    assert device.version == 3  # nothing left to clear: no event


def test_upload_and_clear_all() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    uow.run(UploadAccessList(rows=(("a", "k1"), ("b", "k2")), context=CONTEXT))
    uow.run(ClearAllPublicKeys(device_identifiers=("A", "B"), context=CONTEXT))
    assert device_in(uow, "A").public_key is None and device_in(uow, "B").public_key is None


def test_a_refused_device_is_recorded_as_unknown() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    uow.run(RecordConnectionRefused(device_identifier="new", reason="no key", context=CONTEXT))
    device = device_in(uow, "NEW")
    assert device.unknown and device.public_key is None


@pytest.mark.parametrize("identifier", ["", "   ", "has space", "x" * 200, "semi;colon"])
def test_bad_identifiers_are_refused(identifier: str) -> None:
    with pytest.raises(ValueError):
        MemoryUnitOfWork(HANDLERS).run(
            SetDevicePublicKey(device_identifier=identifier, public_key="k", context=CONTEXT)
        )


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(DomainError):
        MemoryUnitOfWork(HANDLERS).run(
            SetDevicePublicKey(device_identifier="d", public_key=" ", context=CONTEXT)
        )


def test_a_private_key_is_refused_and_not_recorded() -> None:
    from cryptography.hazmat.primitives import serialization

    private_pem = (
        make_key("ed25519")
        .private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    uow = MemoryUnitOfWork(HANDLERS)
    with pytest.raises(DomainError, match="private key"):
        uow.run(SetDevicePublicKey(device_identifier="d", public_key=private_pem, context=CONTEXT))
