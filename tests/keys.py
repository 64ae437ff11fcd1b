"""Device key pairs of every supported kind, in the forms integrators upload them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa


@dataclass
class DeviceKey:
    kind: str
    private: Any

    @property
    def pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    @property
    def b64_pem(self) -> str:
        """The CSV upload's form: base64 of the PEM text."""
        return base64.b64encode(self.pem.encode()).decode()

    def sign(self, message: bytes) -> bytes:
        if self.kind.startswith("ecdsa"):
            return bytes(self.private.sign(message, ec.ECDSA(hashes.SHA256())))
        if self.kind == "ed25519":
            return bytes(self.private.sign(message))
        return bytes(self.private.sign(message, padding.PKCS1v15(), hashes.SHA256()))


def make_key(kind: str) -> DeviceKey:
    if kind == "ecdsa-p256":
        return DeviceKey(kind, ec.generate_private_key(ec.SECP256R1()))
    if kind == "ecdsa-secp256k1":
        return DeviceKey(kind, ec.generate_private_key(ec.SECP256K1()))
    if kind == "ecdsa-p384":
        return DeviceKey(kind, ec.generate_private_key(ec.SECP384R1()))
    if kind == "ed25519":
        return DeviceKey(kind, ed25519.Ed25519PrivateKey.generate())
    if kind == "rsa-2048":
        return DeviceKey(kind, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    raise ValueError(kind)


SUPPORTED_KINDS = ("ecdsa-p256", "ecdsa-secp256k1", "ed25519", "rsa-2048")
