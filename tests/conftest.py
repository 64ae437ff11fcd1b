"""Shared fixtures: the deployments the same scenarios run on, and the real services behind them."""

from __future__ import annotations

import base64
import os
import secrets
import socket
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


def fresh_postgres_database(base_url: str) -> str:
    """A new, empty database on the test server, so every test starts from position 0."""
    import psycopg

    name = f"hubline_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + "/" + name


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
    yield {
        "data_dir": str(data_dir),
        "database": fresh_postgres_database(postgres),
        "log": "kafka",
        "kafka_bootstrap": kafka,
        "kafka_topic": f"hubline.test.{uuid.uuid4().hex[:10]}",
        "secret_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
