"""DeviceAuth writes under wrk: POST /api/v1/deviceauth/{id} from 50 connections.

Used twice in a run: against `hubline serve` and against the bare FastAPI app of the anchor,
with the same script, keys and connections, so the two figures differ only in the server.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.wrk_runs import WrkFigures, run_wrk

SCRIPT = Path(__file__).with_name("deviceauth_writes.lua")
CONNECTIONS = 50


def public_key_pool(size: int = 64) -> list[str]:
    """Valid P-256 keys as base64 of DER: short enough to pass in the environment."""
    return [
        base64.b64encode(
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).decode()
        for _ in range(size)
    ]


def drive(
    base_url: str,
    token: str,
    keys: list[str],
    seconds: float,
    connections: int = CONNECTIONS,
    prefix: str | None = None,
) -> WrkFigures:
    """Each request sets the key of a new device named `prefix`-n (a fresh prefix if None)."""
    env = {"TOKEN": token, "KEYS": ",".join(keys), "PREFIX": prefix or new_prefix()}
    return run_wrk(SCRIPT, base_url, env, seconds, connections)


def new_prefix() -> str:
    return f"W{uuid.uuid4().hex[:12].upper()}"
