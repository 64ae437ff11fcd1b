"""The distributed log: a relay from the store to Kafka, and the consumers that read it.

The store stays the source of truth for order and concurrency (Kafka has no
conditional append). The relay publishes each stored event keyed by aggregate id,
with its global position in a header, and saves how far it got only after Kafka
acknowledged; after a crash it re-sends from there, and every consumer skips
positions it has already seen, per partition.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import Notification
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from infra.commit_signal import CommitListener
from infra.event_store import EventStore
from infra.log_feed import LogFeed
from infra.projection_runner import ProjectionRunner
from infra.schema_lock import schema_lock
from infra.settings import Settings
from infra.view_database import ViewDatabase
from projections.records import LogRecord

log = logging.getLogger(__name__)

_RELAY_POSITIONS = (
    "CREATE TABLE IF NOT EXISTS relay_positions (topic TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


def ensure_topic(settings: Settings) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="hubline-admin")
    try:
        if settings.kafka_topic in admin.list_topics():
            return
        admin.create_topics(
            [
                NewTopic(
                    settings.kafka_topic,
                    num_partitions=settings.kafka_partitions,
                    replication_factor=1,
                    # The topic is a replica of the store's log: keep all of it.
                    topic_configs={"retention.ms": "-1", "retention.bytes": "-1"},
                )
            ]
        )
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def kafka_reachable(settings: Settings) -> bool:
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=3000
        )
    except Exception:
        return False
    try:
        admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        admin.close()


def _headers(n: Notification) -> list[tuple[str, bytes]]:
    return [
        ("position", str(n.id).encode()),
        ("topic", n.topic.encode()),
        ("originator_id", str(n.originator_id).encode()),
        ("version", str(n.originator_version).encode()),
    ]


def record_from_message(store: EventStore, message: Any) -> LogRecord:
    headers = {k: v.decode() for k, v in message.headers or []}
    notification = Notification(
        id=int(headers["position"]),
        originator_id=headers["originator_id"],
        originator_version=int(headers["version"]),
        topic=headers["topic"],
        state=message.value,
    )
    return store.decode(notification, partition=message.partition)


class KafkaRelay:
    """Publishes the store's log to Kafka, in log order, at least once."""

    def __init__(self, settings: Settings, store: EventStore, views: ViewDatabase) -> None:
        self._settings = settings
        self._store = store
        self._views = views
        self._stopping = threading.Event()
        # Set by serve nodes' commit announcements (LISTEN/NOTIFY), so the relay need not
        # wait out its idle poll.
        self._committed = threading.Event()
        self._listener: CommitListener | None = None
        if settings.database is not None:
            self._listener = CommitListener(
                settings.database, settings.kafka_topic, self._committed
            )
            self._listener.start()
        with schema_lock(settings.database), views.transaction() as tx:
            tx.execute(_RELAY_POSITIONS)
        ensure_topic(settings)
        self._producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            max_in_flight_requests_per_connection=5,
        )

    def position(self) -> int:
        with self._views.transaction() as tx:
            rows = tx.fetchall(
                "SELECT position FROM relay_positions WHERE topic = ?",
                (self._settings.kafka_topic,),
            )
        return int(rows[0][0]) if rows else 0

    def _save_position(self, position: int) -> None:
        with self._views.transaction() as tx:
            tx.execute(
                "INSERT INTO relay_positions (topic, position) VALUES (?, ?)"
                " ON CONFLICT (topic) DO UPDATE SET position = excluded.position",
                (self._settings.kafka_topic, position),
            )

    def relay_once(self, limit: int = 1000) -> int:
        start = self.position()
        notifications = self._store.app.recorder.select_notifications(
            start=start, limit=limit, inclusive_of_start=False
        )
        if not notifications:
            return 0
        futures = [
            self._producer.send(
                self._settings.kafka_topic,
                key=str(n.originator_id).encode(),
                value=n.state,
                headers=_headers(n),
            )
            for n in notifications
        ]
        self._producer.flush()
        for future in futures:
            future.get(timeout=30)  # raises if Kafka refused any of them
        self._save_position(notifications[-1].id)
        return len(notifications)

    def run(self, idle_sleep: float = 0.02) -> None:
        while not self._stopping.is_set():
            self._committed.clear()  # before reading, so a commit during the read wakes us
            try:
                sent = self.relay_once()
            except Exception:
                log.exception("relay failed; retrying from the saved position")
                time.sleep(1)
                continue
            if not sent:
                # Woken by a serve node's announcement; the short poll still catches
                # writers that do not announce (the CLI) and lost announcements.
                self._committed.wait(idle_sleep)

    def stop(self) -> None:
        self._stopping.set()
        self._committed.set()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        self._producer.close()


class KafkaProjectionWorker:
    """A member of the projection workers' consumer group: the group shares the partitions."""

    def __init__(self, settings: Settings, store: EventStore, runner: ProjectionRunner) -> None:
        self._store = store
        self._runner = runner
        self._stopping = threading.Event()
        self._settings = settings
        ensure_topic(settings)
        self._consumer = self._join()

    def _join(self) -> KafkaConsumer:
        topic = self._settings.kafka_topic
        consumer = KafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap,
            # One group per log topic: its members share the topic's partitions.
            group_id=f"hubline-projections.{topic}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=1000,
        )
        # Join only once this client knows the topic's partitions: a group joined
        # before that is assigned nothing, and kafka-python 3.0 was seen to spin in
        # the rebalance that follows instead of taking the partitions up.
        deadline = time.monotonic() + 60
        while not consumer.partitions_for_topic(topic):
            if time.monotonic() > deadline:
                consumer.close()
                raise RuntimeError(f"Kafka has no partitions for {topic}")
            time.sleep(0.1)
        consumer.subscribe([topic])
        return consumer

    def run(self) -> None:
        # A view the group's offsets say nothing about (new, or dropped for a new version)
        # is brought up to the head from the store first; Kafka carries on from there, and
        # positions already applied are skipped.
        while not self._stopping.is_set():
            try:
                caught_up = self._runner.catch_up(self._store)
                break
            except Exception:
                log.exception("catching up from the store failed; retrying")
                self._stopping.wait(1.0)
        else:
            return
        if caught_up:
            log.info("caught up %s records from the store before consuming", caught_up)
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                applied = self._poll_and_apply()
            except Exception:
                # A database or broker outage: keep the process and start again from the
                # group's committed offsets, so the batch that failed is read again.
                log.exception("projection worker failed; rejoining and retrying")
                self._stopping.wait(1.0)
                self._rejoin()
                continue
            if not applied and time.monotonic() - started < 0.05:
                # poll() returns at once while the broker is unreachable: don't spin.
                self._stopping.wait(0.5)

    def _rejoin(self) -> None:
        try:
            self._consumer.close()
        except Exception:
            log.exception("closing the consumer failed")
        try:
            self._consumer = self._join()
        except Exception:
            log.exception("could not rejoin the group; will retry")

    def _poll_and_apply(self) -> int:
        batches = self._consumer.poll(timeout_ms=200)
        records = [
            record_from_message(self._store, message)
            for messages in batches.values()
            for message in messages
        ]
        if records:
            # Positions saved with the views decide what is applied; the group's
            # offsets only save re-reading.
            self._runner.apply(records)
            self._consumer.commit()
        return len(records)

    def stop(self) -> None:
        self._stopping.set()

    def close(self) -> None:
        self._consumer.close()


class KafkaLogFeed(LogFeed):
    """Every gateway node reads every partition from the end, without a consumer group."""

    def __init__(self, settings: Settings, store: EventStore) -> None:
        super().__init__()
        self._settings = settings
        self._store = store
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[int, int] = {}

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.to_thread(ensure_topic, self._settings)
        consumer = await asyncio.to_thread(self._consumer)
        self._thread = threading.Thread(
            target=self._poll,
            args=(consumer, loop.call_soon_threadsafe),
            daemon=True,
            name="kafka-feed",
        )
        self._thread.start()

    def _consumer(self) -> KafkaConsumer:
        consumer = KafkaConsumer(bootstrap_servers=self._settings.kafka_bootstrap, group_id=None)
        partitions = consumer.partitions_for_topic(self._settings.kafka_topic) or {0}
        assigned = [TopicPartition(self._settings.kafka_topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_end(*assigned)
        for tp in assigned:
            consumer.position(tp)  # resolve the end offsets now, not at the first poll
        return consumer

    def _poll(self, consumer: KafkaConsumer, call_soon: Callable[..., Any]) -> None:
        try:
            while not self._stopping.is_set():
                started = time.monotonic()
                try:
                    batches = consumer.poll(timeout_ms=200)
                except Exception:
                    # The consumer keeps its positions: after an outage it reads on from there.
                    log.exception("reading the log from Kafka failed; retrying")
                    self._stopping.wait(1.0)
                    continue
                if not batches and time.monotonic() - started < 0.05:
                    self._stopping.wait(0.5)  # unreachable broker: poll() returns at once
                fresh: list[LogRecord] = []
                for messages in batches.values():
                    for message in messages:
                        try:
                            record = record_from_message(self._store, message)
                        except Exception:
                            log.exception("undecodable message at offset %s", message.offset)
                            continue
                        if record.position <= self._seen.get(record.partition, 0):
                            continue  # re-sent by a restarted relay
                        self._seen[record.partition] = record.position
                        fresh.append(record)
                if fresh:
                    fresh.sort(key=lambda r: r.position)
                    call_soon(self.publish, fresh)
        finally:
            consumer.close()

    async def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5)
