"""One transaction per batch for every view: all of a batch's rows and positions commit
together or not at all, and statements batched into one executemany keep their order."""

from __future__ import annotations

import pytest

from domain.context import CommandContext
from domain.deviceauth.commands import SetDevicePublicKey
from infra.command_bus import CommandBus
from infra.root.services import HANDLERS
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase
from projections.records import LogRecord
from projections.view_store import ViewTransaction
from tests.integration.running import settings_for

CLI = CommandContext(actor_id="test", actor_kind="cli")
DEVICES = 12


class EventCounts:
    """Events per aggregate: applying one twice, or skipping one, shows in the counts."""

    version = 1

    def __init__(self, name: str) -> None:
        self.name = name
        self.table = f"view_test_{name}"
        self.fail_at: int | None = None

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.table}"
            " (aggregate_id TEXT PRIMARY KEY, events INTEGER NOT NULL)"
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {self.table}"]

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        if record.position == self.fail_at:
            raise RuntimeError("the view's database refused the row")
        tx.execute(
            f"INSERT INTO {self.table} (aggregate_id, events) VALUES (?, 0)"
            " ON CONFLICT (aggregate_id) DO NOTHING",
            (record.aggregate_id,),
        )
        tx.execute(
            f"UPDATE {self.table} SET events = events + 1 WHERE aggregate_id = ?",
            (record.aggregate_id,),
        )


def _fields(record: LogRecord) -> tuple[object, ...]:
    return (
        record.position,
        record.aggregate_id,
        record.version,
        record.type,
        record.timestamp,
        record.payload,
    )


def counts(views: ViewDatabase, view: EventCounts) -> dict[str, int]:
    with views.transaction(write=False) as tx:
        return {str(r[0]): int(r[1]) for r in tx.fetchall(f"SELECT * FROM {view.table}")}


def test_a_failing_view_commits_no_view_of_the_batch_and_a_retry_applies_each_once(
    deployment: dict[str, str],
) -> None:
    settings = settings_for(deployment)
    store, views = EventStore(settings), ViewDatabase(settings)
    bus = CommandBus(store.app, HANDLERS)
    try:
        for n in range(DEVICES):  # a device each: Registered and PublicKeySet
            bus.execute_now(
                SetDevicePublicKey(device_identifier=f"BATCH-{n}", public_key="k", context=CLI)
            )
        # What the views read is what the domain events say, without building them.
        head = store.head()
        assert [_fields(r) for r in store.read_states(after=0, limit=head)] == [
            _fields(r) for r in store.read(after=0, limit=head)
        ]
        first, second = EventCounts("batch_first"), EventCounts("batch_second")
        runner = ProjectionRunner(views, [first, second])
        second.fail_at = head - 3
        with pytest.raises(RuntimeError):
            runner.catch_up(store)
        # `first` applied the whole batch before `second` failed: none of it was kept.
        assert counts(views, first) == {} and counts(views, second) == {}
        assert runner.position(first.name) == runner.position(second.name) == 0

        second.fail_at = None
        assert runner.catch_up(store) == head
        runner.apply(store.read_states(after=0, limit=head))  # re-sent: skipped
        expected = {str(r.aggregate_id): 2 for r in store.read_states(after=0, limit=head)}
        assert counts(views, first) == counts(views, second) == expected
        assert runner.position(first.name) == runner.position(second.name) == head
    finally:
        views.close()
        store.close()


def test_batched_statements_run_in_order_and_a_read_sees_them(
    deployment: dict[str, str],
) -> None:
    views = ViewDatabase(settings_for(deployment))
    view = EventCounts("batch_order")
    try:
        views.reset(view)
        with views.transaction() as tx:
            for n in range(3):
                tx.execute(f"INSERT INTO {view.table} (aggregate_id, events) VALUES (?, 0)", ("a",))
                tx.execute(f"UPDATE {view.table} SET events = events + ?", (n + 1,))
                tx.execute(f"DELETE FROM {view.table}")
            tx.execute(f"INSERT INTO {view.table} (aggregate_id, events) VALUES (?, 5)", ("b",))
            tx.execute(f"INSERT INTO {view.table} (aggregate_id, events) VALUES (?, 6)", ("c",))
            inside = tx.fetchall(f"SELECT aggregate_id, events FROM {view.table} ORDER BY 1")
            tx.execute(f"UPDATE {view.table} SET events = events * 10")
        assert inside == [("b", 5), ("c", 6)]
        assert counts(views, view) == {"b": 50, "c": 60}
    finally:
        views.close()
