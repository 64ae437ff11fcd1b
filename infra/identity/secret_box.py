"""Encrypts secrets the store must keep (signing keys) with the deployment's master key.

AES-256-GCM from `cryptography`; the master key is configuration (HUBLINE_SECRET_KEY),
or, on the embedded deployment, a file created once under the data directory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infra.settings import Settings

_NONCE_BYTES = 12


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the master key must be 32 bytes (base64 in HUBLINE_SECRET_KEY)")
        self._aead = AESGCM(key)
        self._master = key

    def derive_key(self, purpose: str) -> bytes:
        """A separate key per use (cookies, CSRF), so no two uses share key material."""
        return hmac.new(self._master, purpose.encode(), hashlib.sha256).digest()

    def seal(self, plaintext: bytes, purpose: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, purpose.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, token: str, purpose: str) -> bytes:
        raw = base64.b64decode(token)
        return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], purpose.encode())


def master_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return base64.b64decode(settings.secret_key)
    if settings.database is not None:
        raise ValueError("the distributed deployment needs HUBLINE_SECRET_KEY (32 bytes, base64)")
    path = settings.data_dir / "master.key"
    if not path.exists():
        _create_key_file(path)
    return base64.b64decode(path.read_text().strip())


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(base64.b64encode(secrets.token_bytes(32)).decode())
