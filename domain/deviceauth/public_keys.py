"""Which public keys a device may use, and checking its signature over a challenge.

Integrators send keys as PEM (SubjectPublicKeyInfo or PKCS#1 "RSA PUBLIC KEY"), as
base64 of PEM (the CSV upload's form) or as base64 of DER. Usable: ECDSA on P-256 or
secp256k1 with SHA-256, Ed25519, RSA of 2048 bits or more with PKCS#1 v1.5 and SHA-256.
Anything else is kept but leaves the device unknown, so nothing here raises.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import (
    dsa,
    ec,
    ed448,
    ed25519,
    padding,
    rsa,
    x448,
    x25519,
)
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MIN_RSA_BITS = 2048
# The largest RSA key (16384 bits) in base64 of PEM is under 4 KiB; anything far longer
# is not a key, and caching it would only hold memory. Also the longest key the API
# accepts, in the JSON body and in each CSV row alike: longer ones are refused, not stored.
MAX_KEY_TEXT_LENGTH = 16 * 1024
_CACHED_KEYS = 8192

_USABLE_CURVES = {"secp256r1": "ecdsa-p256", "secp256k1": "ecdsa-secp256k1"}
_CURVE_ALIASES = {"secp384r1": "p384", "secp521r1": "p521", "secp224r1": "p224"}
_EC_COORDINATE_BYTES = 32  # Both usable curves are 256-bit.
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_PUBLIC_KEY_LABELS = ("PUBLIC KEY", "RSA PUBLIC KEY")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_OTHER_KEY_TYPES: tuple[tuple[type[object], str], ...] = (
    (dsa.DSAPublicKey, "dsa"),
    (x25519.X25519PublicKey, "x25519"),
    (x448.X448PublicKey, "x448"),
    (ed448.Ed448PublicKey, "ed448"),
)


class KeyProblem(StrEnum):
    NOT_DECODABLE = "not_decodable"
    PRIVATE_KEY = "private_key"
    UNSUPPORTED_KEY_TYPE = "unsupported_key_type"
    UNSUPPORTED_CURVE = "unsupported_curve"
    RSA_TOO_SMALL = "rsa_too_small"
    RSA_BAD_EXPONENT = "rsa_bad_exponent"


@dataclass(frozen=True)
class PublicKeyCheck:
    """`key_type` names what was recognised, usable or not ("rsa-1024", "x25519").

    `problem` is for people; `problem_code` is for code that must tell problems apart.
    """

    usable: bool
    key_type: str | None
    problem: str | None
    problem_code: KeyProblem | None = None


def inspect_public_key(text: str) -> PublicKeyCheck:
    """Never raises: an unusable key is an answer, not an error."""
    return _parse(text)[1]


def verify_signature(public_key_text: str, signature: bytes, message: bytes) -> bool:
    """True only for a usable key and a valid signature; never raises."""
    key, check = _parse(public_key_text)
    if key is None or not check.usable:
        return False
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            return _verify_ecdsa(key, signature, message)
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
            return True
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return True
    except (InvalidSignature, ValueError, TypeError):
        return False
    return False


def is_valid_base64(text: str) -> bool:
    """Standard alphabet with padding, no whitespace: what `base64 -w0` produces."""
    if not text or len(text) % 4 or not _BASE64.fullmatch(text):
        return False
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _verify_ecdsa(key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
    # Device SDKs emit either DER or raw r||s. A 64-byte DER signature is possible, so a
    # 64-byte signature is tried both ways; accepting either encoding forges nothing.
    candidates = [signature]
    if len(signature) == 2 * _EC_COORDINATE_BYTES:
        r = int.from_bytes(signature[:_EC_COORDINATE_BYTES], "big")
        s = int.from_bytes(signature[_EC_COORDINATE_BYTES:], "big")
        candidates.insert(0, encode_dss_signature(r, s))
    for candidate in candidates:
        try:
            key.verify(candidate, message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            continue
        return True
    return False


def _parse(text: str) -> tuple[PublicKeyTypes | None, PublicKeyCheck]:
    # Checked before the cache, which would otherwise hold on to every huge text.
    if len(text) > MAX_KEY_TEXT_LENGTH:
        return None, _not_decodable(f"longer than {MAX_KEY_TEXT_LENGTH} characters")
    return _parse_cached(text)


@lru_cache(maxsize=_CACHED_KEYS)
def _parse_cached(text: str) -> tuple[PublicKeyTypes | None, PublicKeyCheck]:
    # Cached on the text: the same key is parsed on every connection of its device.
    stripped = text.strip()
    if not stripped:
        return None, _not_decodable("the public key is empty")
    if stripped.startswith("-----BEGIN"):
        return _from_pem(stripped)
    raw = _decode_base64("".join(stripped.split()))
    if raw is None:
        return None, _not_decodable("neither PEM nor base64 of a PEM or DER public key")
    if raw.lstrip().startswith(b"-----BEGIN"):
        try:
            pem = raw.decode("ascii")
        except UnicodeDecodeError:
            return None, _not_decodable("the base64 holds PEM text that is not ASCII")
        return _from_pem(pem.strip())
    return _from_der(raw)


def _from_pem(text: str) -> tuple[PublicKeyTypes | None, PublicKeyCheck]:
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        return None, _not_decodable("an incomplete PEM block (no matching END line)")
    if len(blocks) > 1:
        return None, _not_decodable(f"{len(blocks)} PEM blocks; send exactly one public key")
    label, body = blocks[0]
    if "PRIVATE KEY" in label:
        # Stored keys are readable over the API: a private key must never look accepted.
        problem = "a private key was given; send only the public key"
        return None, PublicKeyCheck(False, None, problem, KeyProblem.PRIVATE_KEY)
    if label not in _PUBLIC_KEY_LABELS:
        return None, _not_decodable(f"a PEM {label} block, not a PUBLIC KEY")
    # Decoded here rather than by the PEM loader, so keys whose line breaks were lost
    # or mangled on the way (pasted on one line, CRLF, indented) still load.
    der = _decode_base64("".join(body.split()))
    if der is None:
        return None, _not_decodable("the PEM body is not valid base64")
    return _from_der(der)


def _from_der(der: bytes) -> tuple[PublicKeyTypes | None, PublicKeyCheck]:
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None, _not_decodable("not a PEM or DER public key")
    return key, _classify(key)


def _decode_base64(text: str) -> bytes | None:
    if not is_valid_base64(text):
        return None
    return base64.b64decode(text, validate=True)


def _classify(key: PublicKeyTypes) -> PublicKeyCheck:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _classify_ec(key)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKeyCheck(True, "ed25519", None)
    if isinstance(key, rsa.RSAPublicKey):
        return _classify_rsa(key)
    kind = next((name for cls, name in _OTHER_KEY_TYPES if isinstance(key, cls)), None)
    problem = f"unsupported key type {kind or type(key).__name__}"
    return PublicKeyCheck(False, kind, problem, KeyProblem.UNSUPPORTED_KEY_TYPE)


def _classify_ec(key: ec.EllipticCurvePublicKey) -> PublicKeyCheck:
    name = key.curve.name
    kind = _USABLE_CURVES.get(name)
    if kind is not None:
        return PublicKeyCheck(True, kind, None)
    problem = f"unsupported curve {name}"
    key_type = f"ecdsa-{_CURVE_ALIASES.get(name, name)}"
    return PublicKeyCheck(False, key_type, problem, KeyProblem.UNSUPPORTED_CURVE)


def _classify_rsa(key: rsa.RSAPublicKey) -> PublicKeyCheck:
    key_type = f"rsa-{key.key_size}"
    if key.key_size < MIN_RSA_BITS:
        problem = f"RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} needed"
        return PublicKeyCheck(False, key_type, problem, KeyProblem.RSA_TOO_SMALL)
    exponent = key.public_numbers().e
    # The parser accepts e=1, with which anyone can forge a signature.
    if exponent < 3 or exponent % 2 == 0:
        problem = f"RSA public exponent {exponent} is unsafe; 65537 is the usual choice"
        return PublicKeyCheck(False, key_type, problem, KeyProblem.RSA_BAD_EXPONENT)
    return PublicKeyCheck(True, key_type, None)


def _not_decodable(problem: str) -> PublicKeyCheck:
    return PublicKeyCheck(False, None, problem, KeyProblem.NOT_DECODABLE)
