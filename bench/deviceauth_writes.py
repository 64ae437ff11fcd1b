"""DeviceAuth writes under wrk: POST /api/v1/deviceauth/{id} from 50 connections.

Used twice in a run: against `hubline serve` and against the bare FastAPI app of the anchor,
with the same script, keys and connections, so the two figures differ only in the server.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

SCRIPT = Path(__file__).with_name("deviceauth_writes.lua")
CONNECTIONS = 50


@dataclass(frozen=True)
class WrkFigures:
    requests: int
    socket_errors: int
    not_2xx: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float

    def describe(self) -> str:
        return (
            f"{self.requests_per_second:,.0f} requests/s, p50 {self.p50_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms ({self.requests:,} requests, {self.not_2xx} not 2xx, "
            f"{self.socket_errors} socket errors)"
        )


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


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def drive(
    base_url: str,
    token: str,
    keys: list[str],
    seconds: float,
    connections: int = CONNECTIONS,
) -> WrkFigures:
    """One wrk thread, as in the SENZ bench: a second one would take the server's other core."""
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(SCRIPT),
            base_url,
        ],
        env={**os.environ, "TOKEN": token, "KEYS": ",".join(keys)},
        capture_output=True,
        text=True,
        check=True,
    )
    figures = dict(zip(*[iter(result.stdout.splitlines()[-1].split())] * 2, strict=True))
    return WrkFigures(
        requests=int(figures["requests"]),
        socket_errors=int(figures["errors"]),
        not_2xx=int(figures["non2xx"]),
        requests_per_second=float(figures["rps"]),
        p50_ms=float(figures["p50_ms"]),
        p99_ms=float(figures["p99_ms"]),
    )
