"""A long catch-up runs without the audit view's secondary indexes and builds them at the
head; whatever interrupts it, the indexes come back (the next catch-up, or the next start)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from domain.context import CommandContext
from domain.deviceauth.commands import SetDevicePublicKey
from infra.command_bus import CommandBus
from infra.root.services import HANDLERS, all_projections
from infra.store import projection_runner
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase
from projections.audit_view import AuditFilter, AuditView, query_audit
from projections.records import LogRecord
from projections.view_store import ViewTransaction
from tests.integration.running import settings_for

CLI = CommandContext(actor_id="test", actor_kind="cli")
INDEXES = {f"view_audit_events_{name}" for name in ("aggregate", "type", "time")}


def _indexes(tx: ViewTransaction, postgres: bool) -> set[str]:
    if postgres:
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = ?"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
    return {str(r[0]) for r in tx.fetchall(sql, ("view_audit_events",))} & INDEXES


class WatchedAudit(AuditView):
    """The audit view, noting which indexes exist and what a query finds while it applies."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.seen: set[str] = set()
        self.queried = 0
        self.fail_at: int | None = None

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        if record.position == self.fail_at:
            raise RuntimeError("the view's database refused the row")
        super().apply(record, tx)
        self.seen |= _indexes(tx, self.postgres)
        self.queried = len(query_audit(tx, AuditFilter(aggregate_id=record.aggregate_id)))

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        # One record at a time, so that each is watched.
        for record in records:
            self.apply(record, tx)


def test_a_rebuild_from_zero_defers_the_audit_indexes_and_they_exist_again(
    deployment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small batches, so that a few events make a catch-up of several batches from 0.
    monkeypatch.setattr(projection_runner, "READ_BATCH", 4)
    settings = settings_for(deployment)
    postgres = settings.database is not None
    store, views = EventStore(settings), ViewDatabase(settings)
    bus = CommandBus(store.app, HANDLERS)

    def indexes() -> set[str]:
        with views.transaction(write=False) as tx:
            return _indexes(tx, postgres)

    try:
        for n in range(6):  # a device each: Registered and PublicKeySet
            bus.execute_now(
                SetDevicePublicKey(device_identifier=f"IDX-{n}", public_key="k", context=CLI)
            )
        head = store.head()
        audit = WatchedAudit(postgres)
        runner = ProjectionRunner(views, [audit])
        assert indexes() == INDEXES
        assert runner.rebuild("audit", store) == head
        # Applied without them; queries during the rebuild still answer.
        assert audit.seen == set() and audit.queried == 2
        assert indexes() == INDEXES
        with views.transaction(write=False) as tx:
            assert len(query_audit(tx, AuditFilter(limit=head))) == head

        # A catch-up that fails on the way leaves them dropped; the next one builds them.
        audit.fail_at = head - 1
        views.reset(audit)
        with pytest.raises(RuntimeError):
            runner.catch_up(store)
        assert indexes() == set()
        audit.fail_at = None
        runner.catch_up(store)
        assert indexes() == INDEXES

        # The process dies with them dropped: the next start's ensure() creates them.
        views.drop_indexes(audit)
        assert indexes() == set()
        ProjectionRunner(views, [AuditView()])
        assert indexes() == INDEXES
    finally:
        views.close()
        store.close()


def test_a_view_close_to_the_head_keeps_its_indexes(
    deployment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projection_runner, "READ_BATCH", 4)
    settings = settings_for(deployment)
    postgres = settings.database is not None
    store, views = EventStore(settings), ViewDatabase(settings)
    bus = CommandBus(store.app, HANDLERS)
    try:
        audit = WatchedAudit(postgres)
        runner = ProjectionRunner(views, [audit])
        for n in range(3):
            bus.execute_now(
                SetDevicePublicKey(device_identifier=f"NEAR-{n}", public_key="k", context=CLI)
            )
            runner.catch_up(store)
        # From 0 with less than a batch behind, then a few events at a time: kept throughout.
        assert audit.seen == INDEXES
    finally:
        views.close()
        store.close()


def test_every_view_catches_up_from_zero_around_the_index_ddl(
    deployment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL, DROP INDEX in a pipelined transaction once made a later transaction fail
    # with "prepared statement _pg3_1 does not exist" (psycopg deallocating mid-pipeline).
    monkeypatch.setattr(projection_runner, "READ_BATCH", 4)
    settings = settings_for(deployment)
    store, views = EventStore(settings), ViewDatabase(settings)
    bus = CommandBus(store.app, HANDLERS)
    try:
        for n in range(10):
            bus.execute_now(
                SetDevicePublicKey(device_identifier=f"ALL-{n}", public_key="k", context=CLI)
            )
        runner = ProjectionRunner(views, all_projections())
        assert runner.catch_up(store) == store.head()
        assert runner.lowest_position() == store.head()
    finally:
        views.close()
        store.close()
