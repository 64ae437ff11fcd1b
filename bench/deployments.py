"""The deployment a benchmark runs on: a fresh embedded dir, or a fresh database and topic."""

from __future__ import annotations

import argparse
import base64
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.anchors import new_scratch_database
from infra.settings import Settings
from tests.conftest import free_port
from tests.e2e.server import Server, ServerProcess, hubline


def add_deployment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres", help="postgresql:// URL of a server to create a fresh database on"
    )
    parser.add_argument("--kafka", help="Kafka bootstrap host:port (with --postgres: distributed)")
    parser.add_argument("--redis", help="redis:// URL for shared rate-limit counters")


def deployment_flags(args: argparse.Namespace) -> dict[str, str]:
    flags = {"data_dir": tempfile.mkdtemp(prefix="hubline-bench-")}
    if args.postgres:
        # A fresh database, dropped when the bench exits (whether or not it finished).
        flags["database"] = new_scratch_database(args.postgres)
        flags["secret_key"] = base64.b64encode(secrets.token_bytes(32)).decode()
    if args.kafka:
        flags |= {
            "log": "kafka",
            "kafka_bootstrap": args.kafka,
            "kafka_topic": f"hubline.bench.{uuid.uuid4().hex[:8]}",
        }
    return flags


def deployment_name(args: argparse.Namespace) -> str:
    if args.kafka:
        return "distributed (PostgreSQL + Kafka" + (" + Redis)" if args.redis else ")")
    return "PostgreSQL" if args.postgres else "embedded (SQLite)"


def settings_from(flags: dict[str, str]) -> Settings:
    return Settings.load(flags, environ={})


@dataclass
class RunningDeployment:
    """Real server processes: `serve`, and with Kafka its relay and projection worker."""

    server: Server
    cli_flags: list[str]
    env: dict[str, str]

    def cli(self, *args: str, stdin: str | None = None) -> str:
        return hubline(*args, *self.cli_flags, stdin=stdin, env=self.env).stdout


@contextmanager
def running_deployment(
    args: argparse.Namespace, env: dict[str, str] | None = None
) -> Iterator[RunningDeployment]:
    flags = deployment_flags(args)
    env = dict(env or {})
    if getattr(args, "redis", None):
        env["HUBLINE_REDIS_URL"] = args.redis
    # The master key is a secret: it goes in the environment, not on command lines.
    if "secret_key" in flags:
        env["HUBLINE_SECRET_KEY"] = flags.pop("secret_key")
    cli_flags = [
        item for key, value in flags.items() for item in (f"--{key.replace('_', '-')}", value)
    ]
    root = Path(tempfile.mkdtemp(prefix="hubline-bench-"))
    workers = []
    if args.kafka:
        workers = [
            ServerProcess(n, [n, *cli_flags], root / f"{n}.log", env=env)
            for n in ("relay", "project")
        ]
    port = free_port()
    server = Server(
        "serve",
        ["serve", "--port", str(port), "--log-level", "warning", *cli_flags],
        root / "serve.log",
        env=env,
        port=port,
    )
    for process in (*workers, server):
        process.start()
    try:
        yield RunningDeployment(server, cli_flags, env)
    finally:
        for process in (server, *workers):
            process.stop()
