"""A projection worker: a member of the consumer group that keeps the views (distributed)."""

from __future__ import annotations

import logging
import threading
import time

from kafka import KafkaConsumer

from infra.log.kafka_topic import ensure_topic, record_from_message
from infra.settings import Settings
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner

log = logging.getLogger(__name__)


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
