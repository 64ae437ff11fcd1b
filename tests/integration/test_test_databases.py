"""The PostgreSQL databases tests create are dropped, whether the tests pass or fail.

Runs a small pytest session of its own, against the same test server, and looks for what
that session left behind.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import require_services

_INNER_TESTS = """
from pathlib import Path

from tests.conftest import fresh_postgres_database, require_services

RECORD = Path(__file__).with_name("databases.txt")


def record(url: str) -> None:
    with RECORD.open("a") as names:
        names.write(url.rsplit("/", 1)[1] + "\\n")


def test_failing_test_on_the_distributed_deployment(deployment):
    if "database" not in deployment:
        return
    record(deployment["database"])
    raise AssertionError("fails on purpose: its database must be dropped all the same")


def test_database_nobody_drops():
    postgres, _ = require_services()
    record(fresh_postgres_database(postgres))
"""


def test_no_database_outlives_the_session(tmp_path: Path) -> None:
    postgres, _ = require_services()
    (tmp_path / "test_inner.py").write_text(_INNER_TESTS)
    repo = Path(__file__).resolve().parents[2]
    inner = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_inner.py"),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert inner.returncode == 1, inner.stdout + inner.stderr
    assert "1 failed, 2 passed" in inner.stdout, inner.stdout

    created = (tmp_path / "databases.txt").read_text().split()
    assert len(created) == 2
    import psycopg

    with psycopg.connect(postgres) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", (created,)
        ).fetchall()
    assert left == []
