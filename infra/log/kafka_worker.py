"""A projection worker: a member of the consumer group that keeps the views (distributed)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kafka import KafkaConsumer

from infra.log.kafka_topic import ensure_topic
from infra.pusher.webhooks import WebhookSender
from infra.settings import Settings
from infra.store.event_store import EventStore, record_from_state
from infra.store.projection_runner import READ_BATCH, ProjectionRunner
from projections.records import LogRecord

log = logging.getLogger(__name__)

# Events applied per transaction while catching up, as the store catch-up reads them.
POLL_RECORDS = READ_BATCH
FETCH_BYTES = 16 * 1024 * 1024


class KafkaProjectionWorker:
    """A member of the projection workers' consumer group: the group shares the partitions."""

    def __init__(
        self,
        settings: Settings,
        store: EventStore,
        runner: ProjectionRunner,
        webhooks: WebhookSender | None = None,
    ) -> None:
        self._store = store
        # Delivers what the pusher_webhooks view queues, from this worker.
        self._webhooks = webhooks
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
            max_poll_records=POLL_RECORDS,
            # A catching-up worker reads the topic as fast as the views take it: a fetch of
            # 1 MiB per partition (the default) is ~2,500 events, fewer than one poll applies.
            max_partition_fetch_bytes=FETCH_BYTES,
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
        if self._webhooks is not None:
            self._webhooks.start()
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                applied = self.poll_and_apply()
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

    def poll_and_apply(self) -> int:
        """One poll of the topic, applied to the views, then the group's offsets committed.
        Returns how many messages came (skipped ones too)."""
        batches = self._consumer.poll(timeout_ms=200, max_records=POLL_RECORDS)
        if not batches:
            return 0
        # A new group reads the topic from its start after the views were filled from the
        # store: what every view has applied is skipped before it is decoded.
        applied = self._runner.applied_by_all()
        records = [
            record_for_views(m)
            for messages in batches.values()
            for m in messages
            if _position(m) > applied.get(m.partition, 0)
        ]
        # Positions saved with the views decide what is applied; the group's offsets only
        # save re-reading.
        self._runner.apply(records)
        self._consumer.commit()
        return sum(len(messages) for messages in batches.values())

    def stop(self) -> None:
        self._stopping.set()

    def close(self) -> None:
        if self._webhooks is not None:
            self._webhooks.stop()
        self._consumer.close()


def _position(message: Any) -> int:
    for key, value in message.headers:
        if key == "position":
            return int(value)
    raise ValueError(f"a message without a position at offset {message.offset}")


def record_for_views(message: Any) -> LogRecord:
    """A record as the views read it: from the stored state, without the domain event object
    (the serve nodes' feed decodes that: `kafka_topic.record_from_message`)."""
    headers = dict(message.headers)
    return record_from_state(
        int(headers["position"]),
        headers["originator_id"].decode(),
        int(headers["version"]),
        headers["topic"].decode(),
        message.value,
        partition=message.partition,
    )
