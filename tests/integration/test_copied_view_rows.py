"""On PostgreSQL a long run of one view statement is written through COPY and a staging
table (infra/store/copy_rows.py): it must leave exactly the rows that sending it row by row
leaves (duplicates, conflicts, repeated keys), and stay in the transaction that saves the
view's position, so a failed or re-sent batch is still applied once."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.store import copy_rows
from infra.store.copy_rows import COPY_MIN_ROWS, CopyPlan
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase
from projections.audit_view import AuditView
from projections.device_access_view import DeviceAccessView
from projections.records import LogRecord
from projections.view_store import ViewTransaction
from tests.conftest import drop_postgres_database, fresh_postgres_database, require_services
from tests.integration.running import settings_for

# Below COPY_MIN_ROWS: each piece is sent row by row.
ROW_BY_ROW = COPY_MIN_ROWS - 1
DEVICES = 2 * COPY_MIN_ROWS


@pytest.fixture
def databases(data_dir: Path) -> Iterator[tuple[ViewDatabase, ViewDatabase]]:
    """Two empty PostgreSQL view databases: one written through COPY, one row by row."""
    postgres, _ = require_services()
    urls = [fresh_postgres_database(postgres) for _ in range(2)]
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    views = [
        ViewDatabase(settings_for({"data_dir": str(data_dir), "database": u, "secret_key": secret}))
        for u in urls
    ]
    try:
        yield views[0], views[1]
    finally:
        for database in views:
            database.close()
        for url in urls:
            drop_postgres_database(url)


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables each COPY wrote: shows that a batch took the COPY path and not the other."""
    written: list[str] = []
    run = CopyPlan.run

    def counted(plan: CopyPlan, cursor: Any, staging: str, rows: Sequence[Sequence[Any]]) -> None:
        written.append(plan.table)
        run(plan, cursor, staging, rows)

    monkeypatch.setattr(copy_rows.CopyPlan, "run", counted)
    return written


def _send(tx: ViewTransaction, sql: str, rows: list[tuple[Any, ...]], row_by_row: bool) -> None:
    if not row_by_row:
        tx.executemany(sql, rows)
        return
    for start in range(0, len(rows), ROW_BY_ROW):
        tx.executemany(sql, rows[start : start + ROW_BY_ROW])


def _statements(table: str) -> list[tuple[str, list[tuple[Any, ...]]]]:
    n = COPY_MIN_ROWS
    # Every id twice, the second with another label: the first one stays (DO NOTHING).
    inserted: list[tuple[Any, ...]] = [
        (f"id{i:05}", f"first-{i}", i, None) for i in range(n // 2, 2 * n)
    ]
    inserted += [(f"id{i:05}", f"second-{i}", -i, 1) for i in range(n // 2, 2 * n)]
    inserted.sort(key=lambda row: row[0])
    updated = [(f"updated-{i}", f"id{i:05}") for i in range(0, 3 * n, 2)]
    # The same key several times: the last one wins (row by row, as the rows are).
    updated_again = [(f"again-{i % 7}-{i}", f"id{i % 7:05}") for i in range(n)]
    upserted = [(f"id{i:05}", f"upserted-{i}", 1000) for i in range(n, 4 * n, 2)]
    upserted_again = [(f"id{i % 11:05}", f"up-again-{i}", 1) for i in range(n)]
    upsert = (
        f"INSERT INTO {table} (id, label, n, flag) VALUES (?, ?, ?, 7)"
        f" ON CONFLICT (id) DO UPDATE SET label = excluded.label, n = {table}.n + excluded.n"
    )
    return [
        (
            f"INSERT INTO {table} (id, label, n, flag) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            inserted,
        ),
        (f"UPDATE {table} SET label = ?, flag = NULL WHERE id = ?", updated),
        (f"UPDATE {table} SET label = ?, n = 0 WHERE id = ?", updated_again),
        (upsert, upserted),
        (upsert, upserted_again),
    ]


def _rows(views: ViewDatabase, table: str) -> list[tuple[Any, ...]]:
    with views.transaction() as tx:
        return tx.fetchall(f"SELECT id, label, n, flag FROM {table} ORDER BY id")


def test_a_long_run_through_copy_leaves_the_rows_of_row_by_row_statements(
    databases: tuple[ViewDatabase, ViewDatabase], copies: list[str]
) -> None:
    views, _ = databases
    for table, row_by_row in (("view_test_copied", False), ("view_test_rows", True)):
        with views.transaction() as tx:
            tx.execute(
                f"CREATE TABLE {table} (id TEXT PRIMARY KEY, label TEXT,"
                " n INTEGER NOT NULL, flag INTEGER)"
            )
            # Rows already there: DO NOTHING keeps them, DO UPDATE adds to their n.
            _send(
                tx,
                f"INSERT INTO {table} (id, label, n, flag) VALUES (?, ?, ?, NULL)",
                [(f"id{i:05}", f"old-{i}", i) for i in range(COPY_MIN_ROWS)],
                row_by_row,
            )
        with views.transaction() as tx:
            for sql, rows in _statements(table):
                _send(tx, sql, rows, row_by_row)
                # A read between runs sees what the copy wrote, in the same transaction.
                tx.fetchall(f"SELECT count(*) FROM {table}")

    copied, row_by_row_rows = _rows(views, "view_test_copied"), _rows(views, "view_test_rows")
    assert copied == row_by_row_rows
    # The seed went through COPY too; the repeated-key UPDATE and upsert did not.
    assert copies == ["view_test_copied"] * 4
    found = {row[0]: row[1:] for row in copied}
    n = COPY_MIN_ROWS
    # Seeded, updated to n = 0 by the repeated-key UPDATE, then upserted once per repeat.
    repeats = [i for i in range(n) if i % 11 == 3]
    assert found["id00003"] == (f"up-again-{repeats[-1]}", len(repeats), None)
    assert found[f"id{n + 1:05}"] == (f"first-{n + 1}", n + 1, None)  # the first of two
    assert found[f"id{n:05}"] == (f"upserted-{n}", n + 1000, None)  # upserted over a row
    assert found[f"id{4 * n - 2:05}"] == (f"upserted-{4 * n - 2}", 1000, 7)  # a new one


class FailingOnce:
    """Applied after the others (names are applied in order): fails the first batch, so
    what the other views copied in that transaction must roll back with their positions."""

    name = "zz_failing_once"
    version = 1

    def __init__(self) -> None:
        self.failed = False

    def create_statements(self) -> list[str]:
        return []

    def drop_statements(self) -> list[str]:
        return []

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("the batch fails after the views copied their rows")


def _records() -> list[LogRecord]:
    moment = datetime(2026, 11, 26, 12, tzinfo=UTC)
    records: list[LogRecord] = []

    def add(aggregate: str, version: int, kind: str, payload: dict[str, Any]) -> None:
        position = len(records) + 1
        meta = {"actor_id": "test", "actor_kind": "cli"}
        records.append(
            LogRecord(
                position,
                aggregate,
                version,
                f"DeviceAccess.{kind}",
                moment + timedelta(milliseconds=position),
                None,
                {**payload, "meta": meta},
            )
        )

    for device in range(DEVICES):
        add(f"agg-{device}", 1, "Registered", {"device_identifier": f"dev-{device}"})
    for device in range(DEVICES):
        add(f"agg-{device}", 2, "PublicKeySet", {"public_key": f"key-{device}"})
    for device in range(0, DEVICES, 5):
        add(f"agg-{device}", 3, "PublicKeySet", {"public_key": f"newer-{device}"})
    return records


def _view_rows(views: ViewDatabase) -> tuple[list[tuple[Any, ...]], ...]:
    with views.transaction() as tx:
        return (
            tx.fetchall("SELECT * FROM view_audit_events ORDER BY position"),
            tx.fetchall("SELECT * FROM view_device_access ORDER BY aggregate_id"),
            tx.fetchall("SELECT * FROM projection_positions ORDER BY projection"),
        )


def test_copied_batches_of_real_views_are_applied_once_like_row_by_row_batches(
    databases: tuple[ViewDatabase, ViewDatabase], copies: list[str]
) -> None:
    copied_views, row_views = databases
    records = _records()
    failing = FailingOnce()
    copied = ProjectionRunner(copied_views, [AuditView(), DeviceAccessView(), failing])

    with pytest.raises(RuntimeError):
        copied.apply(records)
    assert copied.position("audit") == 0
    with copied_views.transaction() as tx:
        assert tx.fetchall("SELECT count(*) FROM view_audit_events") == [(0,)]
    copies.clear()
    # The retry, a re-sent batch carrying positions twice, then the same batch again.
    copied.apply(records + records[: COPY_MIN_ROWS + 10])
    assert copies == ["view_audit_events", "view_device_access", "view_device_access"]
    copied.apply(records)
    copied.apply(records[-COPY_MIN_ROWS - 10 :])

    done = FailingOnce()
    done.failed = True
    row_by_row = ProjectionRunner(row_views, [AuditView(), DeviceAccessView(), done])
    copies.clear()
    for start in range(0, len(records), ROW_BY_ROW // 2):
        row_by_row.apply(records[start : start + ROW_BY_ROW // 2])
    assert copies == []

    assert _view_rows(copied_views) == _view_rows(row_views)
    audit, devices, positions = _view_rows(copied_views)
    assert len(audit) == len(records)
    assert len(devices) == DEVICES
    assert {row[0] for row in positions} == {"audit", "device_access", "zz_failing_once"}
    assert {row[2] for row in positions} == {len(records)}
