"""Which keys a device may use, in every form integrators send them."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from domain.deviceauth.public_keys import inspect_public_key, verify_signature
from tests.keys import SUPPORTED_KINDS, make_key

SEED_EXAMPLE_KEY = (
    "Sm80K2RKZjByemJhMG04aAozdTJTa2Y3Z3BKckxacDU1QmRRMEl4WUNpT1ZCUUd4a25yYjVZY1haQ3J5UTZPd0MvR3Uw"
    "ZLS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZZd0VBWUhLb1pJemowQ0FRWUZLNEVFQUFvRFFnQUVqeWZ3dGNGUmdB"
    "RHNGd1c2Gc9PQotLS0tLUVORCBQVUJMSUMgS0VZLS0tLS0K"
)


def der_b64(key: object) -> str:
    der = key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_supported_keys_in_every_form(kind: str) -> None:
    key = make_key(kind)
    for text in (key.pem, key.b64_pem, der_b64(key.private), "\n  " + key.pem + "\n"):
        check = inspect_public_key(text)
        assert check.usable, (kind, check)
        assert check.key_type == kind


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_signatures_verify_and_wrong_ones_do_not(kind: str) -> None:
    key, other = make_key(kind), make_key(kind)
    challenge = b"\x01" * 32
    assert verify_signature(key.b64_pem, key.sign(challenge), challenge)
    assert not verify_signature(key.pem, key.sign(challenge), b"\x02" * 32)
    assert not verify_signature(key.pem, other.sign(challenge), challenge)
    assert not verify_signature(key.pem, b"", challenge)


@pytest.mark.parametrize("kind", ["ecdsa-p256", "ecdsa-secp256k1"])
def test_raw_ecdsa_signatures_are_accepted(kind: str) -> None:
    key = make_key(kind)
    r, s = decode_dss_signature(key.sign(b"challenge"))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert verify_signature(key.pem, raw, b"challenge")


def test_pkcs1_rsa_pem_is_accepted() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        .decode()
    )
    assert inspect_public_key(pem).usable


def test_unusable_keys_say_why() -> None:
    assert inspect_public_key(make_key("ecdsa-p384").pem).problem == "unsupported curve secp384r1"
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    assert "1024 bits" in (inspect_public_key(der_b64(small)).problem or "")
    for private in (dsa.generate_private_key(key_size=2048), x25519.X25519PrivateKey.generate()):
        check = inspect_public_key(der_b64(private))
        assert not check.usable and "unsupported key type" in (check.problem or "")


@pytest.mark.parametrize(
    "text", ["", "   ", "garbage!", "QUJD", SEED_EXAMPLE_KEY, "-----BEGIN PUBLIC KEY-----\nnope"]
)
def test_garbage_is_an_answer_not_an_error(text: str) -> None:
    check = inspect_public_key(text)
    assert not check.usable and check.problem == "not a PEM or DER public key"
    assert not verify_signature(text, b"sig", b"message")


def test_an_unusable_key_never_verifies() -> None:
    private = ec.generate_private_key(ec.SECP384R1())
    signature = private.sign(b"m", ec.ECDSA(hashes.SHA256()))
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    assert not verify_signature(pem, signature, b"m")
