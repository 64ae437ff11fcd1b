"""The deployment a benchmark runs on: a fresh embedded dir, or a fresh database and topic."""

from __future__ import annotations

import argparse
import base64
import secrets
import tempfile
import uuid

from infra.settings import Settings


def add_deployment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres", help="postgresql:// URL of a server to create a fresh database on"
    )
    parser.add_argument("--kafka", help="Kafka bootstrap host:port (with --postgres: distributed)")


def deployment_flags(args: argparse.Namespace) -> dict[str, str]:
    flags = {"data_dir": tempfile.mkdtemp(prefix="hubline-bench-")}
    if args.postgres:
        import psycopg

        name = f"hubline_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        flags["database"] = args.postgres.rsplit("/", 1)[0] + "/" + name
    if args.postgres:
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
        return "distributed (PostgreSQL + Kafka)"
    return "PostgreSQL" if args.postgres else "embedded (SQLite)"


def settings_from(flags: dict[str, str]) -> Settings:
    return Settings.load(flags, environ={})
