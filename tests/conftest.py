"""Shared fixtures: the deployments the same scenarios run on, and the real services behind them."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# The test services are started by infra/services/run-with-services.sh, which exports
# where they listen; tests are the only other reader of the environment.
POSTGRES_URL = os.environ.get("HUBLINE_TEST_POSTGRES_URL")
KAFKA_BOOTSTRAP = os.environ.get("HUBLINE_TEST_KAFKA_BOOTSTRAP")
REDIS_URL = os.environ.get("HUBLINE_TEST_REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_services() -> tuple[str, str]:
    if POSTGRES_URL and KAFKA_BOOTSTRAP:
        return POSTGRES_URL, KAFKA_BOOTSTRAP
    message = (
        "PostgreSQL and Kafka are not running: run the suite with `make test` "
        "(infra/services/run-with-services.sh starts them)"
    )
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


# Databases made by fresh_postgres_database and not dropped yet: URL -> (server URL, name).
_created_databases: dict[str, tuple[str, str]] = {}


def fresh_postgres_database(base_url: str) -> str:
    """A new, empty database on the test server, so every test starts from position 0.

    The fixture that asked for it drops it (drop_postgres_database); whatever is left is
    dropped when the session ends.
    """
    import psycopg

    name = f"hubline_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base_url.rsplit("/", 1)[0] + "/" + name
    _created_databases[url] = (base_url, name)
    return url


def drop_postgres_database(url: str) -> None:
    """Drops a database from fresh_postgres_database."""
    import psycopg

    base_url, name = _created_databases.pop(url)
    with psycopg.connect(base_url, autocommit=True) as conn:
        for attempt in range(20):
            try:
                # FORCE: a server process that a failed test left running must not keep it.
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except psycopg.errors.InsufficientPrivilege:
                # An autovacuum worker in the database: FORCE may not end it (PostgreSQL
                # 15 checks its role like a user's); it is gone in a moment.
                if attempt == 19:
                    raise
                time.sleep(0.25)


@pytest.fixture(scope="session", autouse=True)
def drop_leftover_postgres_databases() -> Iterator[None]:
    """No database a test created outlives the session, whether the test passed or not."""
    yield
    for url in list(_created_databases):
        drop_postgres_database(url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(params=["embedded", "distributed"])
def deployment(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[dict[str, str]]:
    """Settings flags for one deployment; the same scenarios run on both."""
    if request.param == "embedded":
        yield {"data_dir": str(data_dir)}
        return
    postgres, kafka = require_services()
    database = fresh_postgres_database(postgres)
    yield {
        "data_dir": str(data_dir),
        "database": database,
        "log": "kafka",
        "kafka_bootstrap": kafka,
        "kafka_topic": f"hubline.test.{uuid.uuid4().hex[:10]}",
        "secret_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    drop_postgres_database(database)
