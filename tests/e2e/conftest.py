"""End-to-end fixtures: a running Hubline (either deployment) and tokens minted by its CLI."""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import (
    REDIS_URL,
    drop_postgres_database,
    free_port,
    fresh_postgres_database,
    require_services,
)
from tests.e2e.server import Server, ServerProcess, hubline

ALL_DEVICEAUTH = "deviceAuth:read,deviceAuth:update,deviceAuth:delete"


@dataclass
class Stack:
    """One deployment of Hubline: the server, and in the distributed case its relay and worker."""

    kind: str
    flags: list[str]
    server: Server
    workers: list[ServerProcess] = field(default_factory=list)
    # Secrets travel in the environment, never on command lines.
    env: dict[str, str] = field(default_factory=dict)
    more_servers: list[Server] = field(default_factory=list)
    # The distributed deployment's own PostgreSQL database, dropped by whoever built the stack.
    database: str | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ws_url(self) -> str:
        return self.server.ws_url

    def start(self) -> None:
        for worker in self.workers:
            worker.start()
        self.server.start()
        if self.workers:
            self.wait_for_views()

    def wait_for_views(self, within: float = 60) -> None:
        """A new projection worker first joins its group: wait until it applies a fresh write."""
        self.token("audit:read", name="warm-up")
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for worker in self.workers:
                if worker.process is not None and worker.process.poll() is not None:
                    raise RuntimeError(f"{worker.name} exited:\n{worker.log_tail()}")
            status = self.cli("projections", "status").stdout.splitlines()
            lags = [int(line.split()[2]) for line in status[1:-1]]
            if lags and not any(lags):
                return
            time.sleep(0.2)
        raise RuntimeError(f"views did not catch up:\n{self.workers[-1].log_tail()}")

    def stop(self) -> None:
        for server in (self.server, *self.more_servers):
            server.stop()
        for worker in self.workers:
            worker.stop()

    def add_server(self) -> Server:
        """Another `serve` node on the same database and log (the distributed deployment)."""
        port = free_port()
        log_path = self.server.log_path.with_name(f"serve-{len(self.more_servers) + 2}.log")
        server = Server(
            "serve", ["serve", "--port", str(port), *self.flags], log_path, env=self.env, port=port
        )
        self.more_servers.append(server)
        server.start()
        return server

    def cli(self, *args: str, check: bool = True, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return hubline(*args, *self.flags, check=check, stdin=stdin, env=self.env)

    def token(self, permissions: str = ALL_DEVICEAUTH, name: str = "test") -> str:
        result = self.cli("tokens", "create", "--name", name, "--permissions", permissions)
        return result.stdout.strip().splitlines()[-1]

    def auth(self, permissions: str = ALL_DEVICEAUTH) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(permissions)}"}


def build_stack(kind: str, root: Path, env: dict[str, str] | None = None) -> Stack:
    data_dir = root / "data"
    flags = ["--data-dir", str(data_dir)]
    workers: list[ServerProcess] = []
    env = dict(env or {})
    database = None
    if kind == "distributed":
        postgres, kafka = require_services()
        database = fresh_postgres_database(postgres)
        flags += [
            "--database",
            database,
            "--event-log",
            "kafka",
            "--kafka-bootstrap",
            kafka,
            "--kafka-topic",
            f"hubline.e2e.{uuid.uuid4().hex[:10]}",
        ]
        env.setdefault("HUBLINE_SECRET_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
        if REDIS_URL:
            env.setdefault("HUBLINE_REDIS_URL", REDIS_URL)
        workers = [
            ServerProcess("relay", ["relay", *flags], root / "relay.log", env=env),
            ServerProcess("project", ["project", *flags], root / "project.log", env=env),
        ]
    port = free_port()
    server = Server(
        "serve", ["serve", "--port", str(port), *flags], root / "serve.log", env=env, port=port
    )
    return Stack(kind, flags, server, workers, env, database=database)


@contextmanager
def running_stack(
    root: Path, kind: str = "embedded", env: dict[str, str] | None = None
) -> Iterator[Stack]:
    stack = build_stack(kind, root, env)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        if stack.database:
            drop_postgres_database(stack.database)


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    running = build_stack(request.param, tmp_path_factory.mktemp(request.param))
    try:
        running.start()
        yield running
    finally:
        running.stop()
        if running.database:
            drop_postgres_database(running.database)
