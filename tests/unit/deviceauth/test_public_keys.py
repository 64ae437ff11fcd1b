"""Which keys a device may use, in every form integrators send them."""

from __future__ import annotations

import base64
import datetime
import random
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from domain.deviceauth.public_keys import (
    KeyProblem,
    inspect_public_key,
    is_valid_base64,
    verify_signature,
)
from tests.keys import SUPPORTED_KINDS, DeviceKey, make_key

# Copied from the seed's CSV example: valid base64, but of no key at all.
SEED_EXAMPLE_KEY = (
    "Sm80K2RKZjByemJhMG04aAozdTJTa2Y3Z3BKckxacDU1QmRRMEl4WUNpT1ZCUUd4a25yYjVZY1haQ3J5UTZPd0MvR3Uw"
    "ZLS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZZd0VBWUhLb1pJemowQ0FRWUZLNEVFQUFvRFFnQUVqeWZ3dGNGUmdB"
    "RHNGd1c2Gc9PQotLS0tLUVORCBQVUJMSUMgS0VZLS0tLS0K"
)
CHALLENGE = bytes(range(32))


def der_b64(private: PrivateKeyTypes) -> str:
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def pem_of(private: PrivateKeyTypes) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def raw_ecdsa(der_signature: bytes) -> bytes:
    r, s = decode_dss_signature(der_signature)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def every_form(key: DeviceKey) -> dict[str, str]:
    body = "".join(key.pem.splitlines()[1:-1])
    return {
        "pem": key.pem,
        "base64 of pem": key.b64_pem,
        "base64 of der": der_b64(key.private),
        "padded pem": "\n  " + key.pem.replace("\n", "\r\n") + "\n\n",
        "pem on one line": f"-----BEGIN PUBLIC KEY----- {body} -----END PUBLIC KEY-----",
        "wrapped base64 of pem": "\n".join(
            key.b64_pem[i : i + 76] for i in range(0, len(key.b64_pem), 76)
        ),
        "base64 of pem with spaces": f"  {key.b64_pem}\t\n",
    }


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_supported_keys_in_every_form(kind: str) -> None:
    key = make_key(kind)
    for form, text in every_form(key).items():
        check = inspect_public_key(text)
        assert check.usable, (form, check)
        assert check.key_type == kind, form
        assert check.problem is None and check.problem_code is None


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_signatures_verify_with_every_form_of_the_key(kind: str) -> None:
    key = make_key(kind)
    signature = key.sign(CHALLENGE)
    for form, text in every_form(key).items():
        assert verify_signature(text, signature, CHALLENGE), form


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_wrong_signatures_do_not_verify(kind: str) -> None:
    key, other = make_key(kind), make_key(kind)
    signature = key.sign(CHALLENGE)
    assert not verify_signature(key.pem, signature, b"\x02" * 32)
    assert not verify_signature(key.pem, other.sign(CHALLENGE), CHALLENGE)
    assert not verify_signature(other.pem, signature, CHALLENGE)
    assert not verify_signature(key.pem, b"", CHALLENGE)
    assert not verify_signature(key.pem, b"\x00" * 64, CHALLENGE)
    assert not verify_signature(key.pem, b"\x30" * 300, CHALLENGE)
    assert not verify_signature(key.pem, signature[:-1] + bytes([signature[-1] ^ 1]), CHALLENGE)


def test_rsa_keys_larger_than_2048_bits_are_usable() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    check = inspect_public_key(pem_of(private))
    assert check.usable and check.key_type == "rsa-3072"


def test_pkcs1_rsa_pem_and_der_are_accepted() -> None:
    key = make_key("rsa-2048")
    public = key.private.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    for text in (pem.decode(), base64.b64encode(pem).decode(), base64.b64encode(der).decode()):
        assert inspect_public_key(text).key_type == "rsa-2048"
        assert verify_signature(text, key.sign(CHALLENGE), CHALLENGE)


@pytest.mark.parametrize("kind", ["ecdsa-p256", "ecdsa-secp256k1"])
def test_raw_ecdsa_signatures_are_accepted(kind: str) -> None:
    key = make_key(kind)
    raw = raw_ecdsa(key.sign(CHALLENGE))
    assert len(raw) == 64
    assert verify_signature(key.pem, raw, CHALLENGE)
    assert verify_signature(key.b64_pem, raw, CHALLENGE)
    assert not verify_signature(key.pem, raw, b"other")
    assert not verify_signature(make_key(kind).pem, raw, CHALLENGE)


def test_a_raw_ecdsa_signature_that_starts_like_der_is_accepted() -> None:
    # r||s begins with 0x30, DER's first byte, once in 256 signatures: it must not be misread.
    key = make_key("ecdsa-p256")
    raw = next(
        raw for raw in (raw_ecdsa(key.sign(CHALLENGE)) for _ in range(20_000)) if raw[0] == 0x30
    )
    assert verify_signature(key.pem, raw, CHALLENGE)


def test_a_curve_other_than_p256_or_secp256k1_is_unsupported() -> None:
    check = inspect_public_key(make_key("ecdsa-p384").pem)
    assert not check.usable
    assert check.problem == "unsupported curve secp384r1"
    assert check.problem_code is KeyProblem.UNSUPPORTED_CURVE
    assert check.key_type == "ecdsa-p384"


def test_an_rsa_key_under_2048_bits_is_too_small() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    check = inspect_public_key(der_b64(small))
    assert not check.usable and check.key_type == "rsa-1024"
    assert check.problem_code is KeyProblem.RSA_TOO_SMALL
    assert "1024 bits" in (check.problem or "")


def test_an_rsa_key_with_exponent_one_is_refused() -> None:
    # With e=1 anyone forges a signature; the parser loads such a key, so it is checked here.
    n = make_key("rsa-2048").private.public_key().public_numbers().n

    def der_integer(value: int) -> bytes:
        body = value.to_bytes(value.bit_length() // 8 + 1, "big")
        return b"\x02" + der_length(len(body)) + body

    def der_length(length: int) -> bytes:
        if length < 0x80:
            return bytes([length])
        encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(encoded)]) + encoded

    sequence = der_integer(n) + der_integer(1)
    pkcs1 = b"\x30" + der_length(len(sequence)) + sequence
    text = base64.b64encode(pkcs1).decode()
    check = inspect_public_key(text)
    # Newer `cryptography` refuses to load such a key at all; either way it is never usable.
    assert not check.usable
    assert check.problem_code in (KeyProblem.RSA_BAD_EXPONENT, KeyProblem.NOT_DECODABLE)
    assert not verify_signature(text, CHALLENGE.rjust(256, b"\x00"), CHALLENGE)


OTHER_KEY_TYPES: dict[str, Callable[[], PrivateKeyTypes]] = {
    "dsa": lambda: dsa.generate_private_key(key_size=2048),
    "x25519": x25519.X25519PrivateKey.generate,
    "ed448": ed448.Ed448PrivateKey.generate,
}


@pytest.mark.parametrize("key_type", OTHER_KEY_TYPES)
def test_other_key_types_are_unsupported(key_type: str) -> None:
    private = OTHER_KEY_TYPES[key_type]()
    for text in (pem_of(private), der_b64(private)):
        check = inspect_public_key(text)
        assert not check.usable and check.key_type == key_type
        assert check.problem == f"unsupported key type {key_type}"
        assert check.problem_code is KeyProblem.UNSUPPORTED_KEY_TYPE


def test_a_private_key_is_flagged_as_one() -> None:
    private = make_key("ecdsa-p256").private
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    for text in (pem, base64.b64encode(pem.encode()).decode()):
        check = inspect_public_key(text)
        assert not check.usable and check.problem_code is KeyProblem.PRIVATE_KEY
        assert "private key" in (check.problem or "")


def test_a_certificate_is_not_a_public_key() -> None:
    private = make_key("ecdsa-p256").private
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    check = inspect_public_key(certificate.public_bytes(serialization.Encoding.PEM).decode())
    assert not check.usable and check.problem_code is KeyProblem.NOT_DECODABLE
    assert "CERTIFICATE" in (check.problem or "")


def test_two_keys_in_one_text_are_refused() -> None:
    text = make_key("ed25519").pem + make_key("ed25519").pem
    check = inspect_public_key(text)
    assert not check.usable and check.problem_code is KeyProblem.NOT_DECODABLE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "garbage!",
        "QUJD",
        SEED_EXAMPLE_KEY,
        "-----BEGIN PUBLIC KEY-----\nnope",
        "-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----",
        "-----BEGIN PUBLIC KEY-----\nQUJD\n-----END PUBLIC KEY-----",
        base64.b64encode(b"-----BEGIN PUBLIC KEY-----\xff\n").decode(),
        "\ud800",
        "-----BEGIN \ud800",
        "é" * 10,
        "\x00",
        "A" * 100_000,
    ],
)
def test_garbage_is_an_answer_not_an_error(text: str) -> None:
    check = inspect_public_key(text)
    assert not check.usable and check.key_type is None
    assert check.problem_code is KeyProblem.NOT_DECODABLE and check.problem
    assert not verify_signature(text, b"sig", b"message")


def test_the_seed_example_key_is_unusable() -> None:
    assert is_valid_base64(SEED_EXAMPLE_KEY)
    check = inspect_public_key(SEED_EXAMPLE_KEY)
    assert not check.usable and check.problem_code is KeyProblem.NOT_DECODABLE


def test_random_input_never_raises() -> None:
    rng = random.Random(20_261_123)
    for _ in range(500):
        blob = rng.randbytes(rng.randrange(0, 200))
        for text in (
            base64.b64encode(blob).decode(),
            blob.decode("latin-1"),
            "-----BEGIN PUBLIC KEY-----" + base64.b64encode(blob).decode(),
        ):
            assert not inspect_public_key(text).usable
            assert not verify_signature(text, blob, blob)


def test_an_unusable_key_never_verifies() -> None:
    private = ec.generate_private_key(ec.SECP384R1())
    signature = private.sign(CHALLENGE, ec.ECDSA(hashes.SHA256()))
    assert not verify_signature(pem_of(private), signature, CHALLENGE)


def test_parsed_keys_are_cached_by_text() -> None:
    key = make_key("ed25519")
    assert inspect_public_key(key.b64_pem) is inspect_public_key(key.b64_pem)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("QUJD", True),
        ("QUI=", True),
        ("QQ==", True),
        ("", False),
        ("QUI", False),
        ("QU=I", False),
        ("QUJD\n", False),
        ("QU JD", False),
        ("QUJD====", False),
        ("QU-_", False),
        ("é===", False),
    ],
)
def test_is_valid_base64(text: str, valid: bool) -> None:
    assert is_valid_base64(text) is valid
