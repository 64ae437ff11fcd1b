"""Anchors: what this machine does without Hubline, measured in the same run as Hubline's figure.

python -m bench.anchors [--postgres URL] [--seconds N]

- raw SQLite: rows shaped like stored events (bench/stored_event_rows.py) inserted into a
  table like eventsourcing's stored_events, in WAL mode with synchronous=FULL (the store's
  durability: eventsourcing sets WAL and leaves synchronous at SQLite's FULL), 100 rows per
  transaction and 1 row per transaction.
- raw PostgreSQL: the same rows into a table like eventsourcing's, in a transaction like its
  recorder's (SET LOCAL lock_timeout, LOCK TABLE ... IN EXCLUSIVE MODE so that notification
  ids follow commit order, NOTIFY, INSERT ... RETURNING notification_id, pipelined), on a
  scratch database dropped afterwards.
- a bare FastAPI app with a DeviceAuth write's route shape under `hubline serve`'s uvicorn
  configuration (bench/bare_app.py), driven by wrk like the real route
  (bench/deviceauth_writes.py).
- orjson decode of stored event states: the rebuild's lower bound on parsing.

Each function measures one anchor and returns its figure, for the benches to print beside
their own.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg

from bench.bare_app import running_bare_app
from bench.deviceauth_writes import drive, public_key_pool
from bench.process_cpu import cpu_seconds
from bench.stored_event_rows import stored_event_rows
from bench.wrk_runs import WrkFigures, wrk_available

SECONDS = 5.0
# The store's POSTGRES_LOCK_TIMEOUT (infra/store/event_store.py).
_LOCK_TIMEOUT_SECONDS = 10

_SQLITE_TABLE = (
    "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
    "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
)
_POSTGRES_TABLE = (
    "CREATE TABLE stored_events (originator_id uuid NOT NULL, "
    "originator_version bigint NOT NULL, topic text, state bytea, "
    "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
)
_POSTGRES_INDEX = "CREATE UNIQUE INDEX ON stored_events (notification_id ASC)"
# eventsourcing unnests an array of a composite type; parallel arrays are the same insert.
_POSTGRES_INSERT = (
    "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
    "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[]) "
    "RETURNING notification_id"
)


def raw_sqlite_rows_per_second(
    batch: int = 100, seconds: float = SECONDS, directory: Path | None = None
) -> float:
    """Rows/s committed durably; only the transactions are timed, not making the rows."""
    folder = Path(tempfile.mkdtemp(prefix="hubline-anchor-", dir=directory))
    conn = sqlite3.connect(folder / "raw.sqlite", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(_SQLITE_TABLE)
        rows, busy = 0, 0.0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            params = [
                (r.originator_id.hex, r.originator_version, r.topic, r.state)
                for r in stored_event_rows(batch)
            ]
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", params)
            conn.execute("COMMIT")
            busy += time.perf_counter() - started
            rows += batch
        return rows / busy
    finally:
        conn.close()
        shutil.rmtree(folder, ignore_errors=True)


def raw_postgres_rows_per_second(url: str, batch: int = 100, seconds: float = SECONDS) -> float:
    """Rows/s committed on a scratch database of the server at `url`, dropped afterwards."""
    with (
        scratch_postgres_database(url) as scratch,
        psycopg.connect(scratch, autocommit=True) as conn,
    ):
        conn.execute(_POSTGRES_TABLE)
        conn.execute(_POSTGRES_INDEX)
        rows, busy = 0, 0.0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            made = stored_event_rows(batch)
            params = (
                [r.originator_id for r in made],
                [r.originator_version for r in made],
                [r.topic for r in made],
                [r.state for r in made],
            )
            started = time.perf_counter()
            with conn.pipeline() as pipeline, conn.transaction(), conn.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT_SECONDS}s'", prepare=True)
                cursor.execute("LOCK TABLE stored_events IN EXCLUSIVE MODE", prepare=True)
                cursor.execute("NOTIFY stored_events")
                cursor.execute(_POSTGRES_INSERT, params)
                pipeline.sync()
                assert len(cursor.fetchall()) == batch
            busy += time.perf_counter() - started
            rows += batch
        return rows / busy


def new_scratch_database(url: str, prefix: str = "hubline_bench") -> str:
    """A new empty database on the server at `url`, its URL; dropped when this process
    exits (atexit), if nothing dropped it before. The one place a bench creates a database."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    scratch = url.rsplit("/", 1)[0] + "/" + name
    atexit.register(drop_postgres_database, scratch)
    return scratch


@contextmanager
def scratch_postgres_database(url: str) -> Iterator[str]:
    """A new empty database on the server at `url`; yields its URL and drops it after."""
    scratch = new_scratch_database(url, "hubline_anchor")
    try:
        yield scratch
    finally:
        drop_postgres_database(scratch)


def drop_postgres_database(database_url: str) -> None:
    """Drops the database named in `database_url`, from the server's own `postgres` database
    (WITH (FORCE): a server process killed mid-run may have left sessions on it)."""
    server, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class BareAppRun:
    figures: WrkFigures
    event_loop: str
    # The server process's CPU time per answered request (µs), user + system.
    cpu_us_per_request: float


def bare_fastapi_writes(seconds: float = SECONDS, keys: list[str] | None = None) -> BareAppRun:
    """wrk against the bare app, after one second of warm-up like the real server gets."""
    keys = keys or public_key_pool()
    with running_bare_app() as bare:
        drive(bare.url, "bench-token", keys, 1)
        before = cpu_seconds(bare.pid)
        figures = drive(bare.url, "bench-token", keys, seconds)
        spent = cpu_seconds(bare.pid) - before
        return BareAppRun(figures, bare.event_loop, cpu_per_request(spent, figures))


def cpu_per_request(spent_seconds: float, figures: WrkFigures) -> float:
    return spent_seconds / max(1, figures.requests) * 1e6


def orjson_decode_records_per_second(
    states: Sequence[bytes] | None = None, seconds: float = 1.0
) -> float:
    """Records/s parsed by orjson.loads, in passes over `states` (100,000 made if not given)."""
    states = states if states is not None else [r.state for r in stored_event_rows(100_000)]
    decoded = 0
    loads = orjson.loads
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for state in states:
            loads(state)
        decoded += len(states)
    return decoded / elapsed


def rows_per(batch: int) -> str:
    return "1 row" if batch == 1 else f"{batch} rows"


def ratio(figure: float, anchor: float) -> str:
    return f"{figure / anchor:.2f} x" if anchor else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="postgresql:// URL of a server for the raw anchor")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="per measurement")
    args = parser.parse_args()
    for batch in (100, 1):
        rate = raw_sqlite_rows_per_second(batch, args.seconds)
        print(
            f"raw SQLite (WAL, synchronous=FULL), {rows_per(batch)} per transaction: "
            f"{rate:,.0f} rows/s"
        )
    for batch in (100, 1):
        if not args.postgres:
            print(f"raw PostgreSQL, {rows_per(batch)} per transaction: skipped (no --postgres URL)")
            continue
        rate = raw_postgres_rows_per_second(args.postgres, batch, args.seconds)
        print(
            f"raw PostgreSQL (table lock, NOTIFY, RETURNING), {rows_per(batch)} per transaction: "
            f"{rate:,.0f} rows/s"
        )
    if wrk_available():
        bare = bare_fastapi_writes(args.seconds)
        print(
            f"bare FastAPI POST /api/v1/deviceauth/{{id}}, wrk, 50 connections: "
            f"{bare.figures.describe()}; {bare.cpu_us_per_request:.0f} µs of server CPU a "
            f"request; event loop {bare.event_loop}"
        )
    else:
        print("bare FastAPI: skipped, wrk is not installed (apt-get install wrk)")
    rate = orjson_decode_records_per_second()
    print(f"orjson decode of stored event states (~340 bytes): {rate:,.0f} records/s")


if __name__ == "__main__":
    main()
