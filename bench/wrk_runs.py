"""One wrk run with a Lua script of ours, and the figures its `done` hook prints.

Every bench that loads the server over HTTP drives it with wrk from Debian's packages: a
Python client saturates a core before the server does. One wrk thread, since a second
one would take the server's other core on this 2-core machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WrkFigures:
    requests: int
    socket_errors: int
    not_2xx: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    unit: str = "requests"

    def describe(self) -> str:
        return (
            f"{self.requests_per_second:,.0f} {self.unit}/s, p50 {self.p50_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms ({self.requests:,} requests, {self.not_2xx} not 2xx, "
            f"{self.socket_errors} socket errors)"
        )


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    script: Path,
    url: str,
    env: dict[str, str],
    seconds: float,
    connections: int,
    unit: str = "requests",
) -> WrkFigures:
    """The script's `done` hook prints its figures as key/value pairs on the last line."""
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script), url],
        env={**os.environ, **env},
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
        unit=unit,
    )
