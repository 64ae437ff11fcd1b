"""Benchmarks leave no database behind: each one they create is dropped when they exit."""

from __future__ import annotations

import subprocess
import sys

import psycopg

from tests.conftest import require_services
from tests.e2e.server import ROOT

_CREATE_AND_EXIT = """
import argparse, sys, psycopg
from bench.deployments import deployment_flags
flags = deployment_flags(argparse.Namespace(postgres=sys.argv[1], kafka=None, redis=None))
with psycopg.connect(flags["database"]):  # it exists while the bench runs
    pass
print(flags["database"].rsplit("/", 1)[1])
"""


def _exists(url: str, name: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        return bool(row.fetchone()[0])  # type: ignore[index]


def test_a_bench_deployments_database_is_dropped_when_the_bench_exits() -> None:
    postgres_url, _ = require_services()
    name = subprocess.run(
        [sys.executable, "-c", _CREATE_AND_EXIT, postgres_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert name.startswith("hubline_bench_")
    assert not _exists(postgres_url, name)
