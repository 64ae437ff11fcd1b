"""Which public keys a device may use, and checking its signature over a challenge.

Integrators send keys as PEM, as base64 of PEM (the CSV upload's form) or as base64 of
DER. Usable: ECDSA on P-256 or secp256k1 with SHA-256, Ed25519, RSA of 2048 bits or more
with PKCS#1 v1.5 and SHA-256. Anything else is kept but leaves the device unknown.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MIN_RSA_BITS = 2048
_CURVES = {"secp256r1": "ecdsa-p256", "secp256k1": "ecdsa-secp256k1"}
_EC_COORDINATE_BYTES = 32


@dataclass(frozen=True)
class PublicKeyCheck:
    usable: bool
    key_type: str | None
    problem: str | None


def inspect_public_key(text: str) -> PublicKeyCheck:
    """Never raises: an unusable key is an answer, not an error."""
    key = _load(text)
    if key is None:
        return PublicKeyCheck(False, None, "not a PEM or DER public key")
    return _classify(key)


def verify_signature(public_key_text: str, signature: bytes, message: bytes) -> bool:
    """True only for a usable key and a valid signature; never raises."""
    key = _load(public_key_text)
    if key is None or not _classify(key).usable:
        return False
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(_der_ecdsa(signature), message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _der_ecdsa(signature: bytes) -> bytes:
    # Many device SDKs emit the raw r||s form; the library verifies DER.
    if len(signature) == 2 * _EC_COORDINATE_BYTES and signature[0] != 0x30:
        r = int.from_bytes(signature[:_EC_COORDINATE_BYTES], "big")
        s = int.from_bytes(signature[_EC_COORDINATE_BYTES:], "big")
        return encode_dss_signature(r, s)
    return signature


def _classify(key: PublicKeyTypes) -> PublicKeyCheck:
    if isinstance(key, ec.EllipticCurvePublicKey):
        kind = _CURVES.get(key.curve.name)
        if kind is None:
            return PublicKeyCheck(False, None, f"unsupported curve {key.curve.name}")
        return PublicKeyCheck(True, kind, None)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKeyCheck(True, "ed25519", None)
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            return PublicKeyCheck(
                False, None, f"RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} needed"
            )
        return PublicKeyCheck(True, f"rsa-{key.key_size}", None)
    return PublicKeyCheck(False, None, f"unsupported key type {type(key).__name__}")


@lru_cache(maxsize=4096)
def _load(text: str) -> PublicKeyTypes | None:
    # Cached: the same key is parsed on every connection of its device.
    stripped = text.strip()
    if not stripped:
        return None
    if stripped.startswith("-----BEGIN"):
        return _from_pem(stripped.encode())
    try:
        raw = base64.b64decode("".join(stripped.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if raw.lstrip().startswith(b"-----BEGIN"):
        return _from_pem(raw.strip())
    try:
        return serialization.load_der_public_key(raw)
    except (ValueError, UnsupportedAlgorithm):
        return None


def _from_pem(data: bytes) -> PublicKeyTypes | None:
    try:
        return serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        return None
