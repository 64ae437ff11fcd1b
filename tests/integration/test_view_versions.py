"""Views with a version: a new release's view is dropped and rebuilt from position 0, and a
projection worker fills a view the Kafka group's offsets know nothing about from the store."""

from __future__ import annotations

import time

from domain.context import CommandContext
from domain.deviceauth.commands import SetDevicePublicKey
from infra.command_bus import CommandBus
from infra.root.services import HANDLERS
from infra.settings import Settings
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase
from projections.records import LogRecord
from projections.view_store import ViewTransaction
from tests.integration.running import Background, settings_for, start_relay
from tests.keys import make_key

CLI = CommandContext(actor_id="test", actor_kind="cli")
COUNT = 30


class CountsV1:
    name = "test_counts"
    version = 1

    def create_statements(self) -> list[str]:
        return ["CREATE TABLE IF NOT EXISTS view_test_counts (aggregate_id TEXT PRIMARY KEY)"]

    def drop_statements(self) -> list[str]:
        return ["DROP TABLE IF EXISTS view_test_counts"]

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        tx.execute(
            "INSERT INTO view_test_counts (aggregate_id) VALUES (?) ON CONFLICT DO NOTHING",
            (record.aggregate_id,),
        )


class CountsV2(CountsV1):
    """The same view with another table shape: events per aggregate."""

    version = 2

    def create_statements(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS view_test_counts"
            " (aggregate_id TEXT PRIMARY KEY, events INTEGER NOT NULL)"
        ]

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        tx.execute(
            "INSERT INTO view_test_counts (aggregate_id, events) VALUES (?, 1)"
            " ON CONFLICT (aggregate_id) DO UPDATE SET events = view_test_counts.events + 1",
            (record.aggregate_id,),
        )


def write_events(settings: Settings) -> None:
    store = EventStore(settings)
    bus = CommandBus(store.app, HANDLERS)
    key = make_key("ed25519").pem
    for n in range(COUNT):  # a device each: Registered and PublicKeySet
        bus.execute_now(
            SetDevicePublicKey(device_identifier=f"VERSIONS-{n}", public_key=key, context=CLI)
        )
    store.close()


def rows(views: ViewDatabase) -> list[tuple[object, ...]]:
    with views.transaction(write=False) as tx:
        return tx.fetchall("SELECT * FROM view_test_counts ORDER BY aggregate_id")


def test_a_new_version_of_a_view_is_rebuilt_from_position_zero(
    deployment: dict[str, str],
) -> None:
    settings = settings_for(deployment)
    write_events(settings)
    store, views = EventStore(settings), ViewDatabase(settings)
    try:
        ProjectionRunner(views, [CountsV1()]).catch_up(store)
        assert len(rows(views)) == COUNT and len(rows(views)[0]) == 1

        # A reading node of the new release leaves the view to the workers.
        ProjectionRunner(views, [CountsV2()], applies=False)
        assert len(rows(views)[0]) == 1

        runner = ProjectionRunner(views, [CountsV2()])
        assert rows(views) == [] and runner.position("test_counts") == 0
        runner.catch_up(store)
        assert len(rows(views)) == COUNT and {r[1] for r in rows(views)} == {2}

        ProjectionRunner(views, [CountsV2()]).catch_up(store)  # the same version: kept
        assert {r[1] for r in rows(views)} == {2}
    finally:
        views.close()
        store.close()


def test_a_projection_worker_fills_a_new_view_from_the_store(
    deployment: dict[str, str],
) -> None:
    settings = settings_for(deployment)
    if settings.log != "kafka":
        return  # the embedded runner always reads the store from the lowest position
    from infra.log.kafka_worker import KafkaProjectionWorker

    relay = start_relay(settings)
    write_events(settings)
    store, views = EventStore(settings), ViewDatabase(settings)
    worker = None
    try:
        # The group has consumed the topic already: its offsets are at the end.
        first = Background(KafkaProjectionWorker(settings, store, ProjectionRunner(views, [])))
        first.start()
        time.sleep(3)
        first.stop()
        runner = ProjectionRunner(views, [CountsV2()])
        worker = Background(KafkaProjectionWorker(settings, store, runner))
        worker.start()
        deadline = time.monotonic() + 30
        while len(rows(views)) < COUNT:
            assert time.monotonic() < deadline, "the new view was not filled"
            time.sleep(0.1)
        assert {r[1] for r in rows(views)} == {2}
    finally:
        if worker is not None:
            worker.stop()
        relay.stop()
        views.close()
        store.close()
