"""A projection worker: a member of the consumer group that keeps the views (distributed)."""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from infra.log.kafka_topic import (
    ADMIN_TIMEOUT_SECONDS,
    client_config,
    ensure_topic,
    message_headers,
    message_partition,
    take,
)
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

    def _join(self) -> Consumer:
        topic = self._settings.kafka_topic
        consumer = Consumer(
            client_config(
                self._settings,
                "projections",
                **{
                    # One group per log topic: its members share the topic's partitions.
                    "group.id": f"hubline-projections.{topic}",
                    # Offsets are committed after the views applied a poll (poll_and_apply).
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest",
                    # A catching-up worker reads the topic as fast as the views take it: a
                    # fetch of 1 MiB per partition (the default) is ~2,500 events, fewer
                    # than one poll applies.
                    "max.partition.fetch.bytes": FETCH_BYTES,
                    # A killed worker's partitions go to the others within 10 s (as
                    # kafka-python's default), not librdkafka's 45.
                    "session.timeout.ms": 10000,
                    "on_commit": _committed,
                },
            )
        )
        # Subscribe once the topic's partitions are known, so that the first rebalance
        # assigns them instead of waiting for the next metadata refresh.
        deadline = time.monotonic() + 60
        while not _partitions(consumer, topic):
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
                # A database outage (librdkafka rides out the broker's by itself): keep the
                # process and start again from the group's committed offsets, so the batch
                # that failed is read again.
                log.exception("projection worker failed; rejoining and retrying")
                self._stopping.wait(1.0)
                self._rejoin()
                continue
            if not applied and time.monotonic() - started < 0.05:
                # Should a poll ever return at once without messages: don't spin.
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
        messages = take(self._consumer, POLL_RECORDS, 0.2)
        if not messages:
            return 0
        # A new group reads the topic from its start after the views were filled from the
        # store: what every view has applied is skipped before it is decoded.
        applied = self._runner.applied_by_all()
        messages = _readable(messages)
        records = [
            record_for_views(m)
            for m in messages
            if _position(m) > applied.get(message_partition(m), 0)
        ]
        # Positions saved with the views decide what is applied; the group's offsets only
        # save re-reading, so they are committed without waiting (a lost commit is
        # re-read and skipped), and a broker outage never holds the loop.
        self._runner.apply(records)
        self._consumer.commit(asynchronous=True)
        return len(messages)

    def stop(self) -> None:
        self._stopping.set()

    def close(self) -> None:
        if self._webhooks is not None:
            self._webhooks.stop()
        self._consumer.close()


def _partitions(consumer: Consumer, topic: str) -> bool:
    try:
        metadata = consumer.list_topics(topic, timeout=ADMIN_TIMEOUT_SECONDS).topics.get(topic)
    except KafkaException as error:
        log.warning("Kafka: no metadata for %s yet (%s)", topic, error)
        return False
    return metadata is not None and metadata.error is None and bool(metadata.partitions)


def _readable(messages: list[Message]) -> list[Message]:
    """The messages of a poll; librdkafka reports a partition's errors in their place."""
    if all(m.error() is None for m in messages):
        return messages
    for m in messages:
        error = m.error()
        if error is not None:
            log.warning("Kafka: %s", error.str())
    return [m for m in messages if m.error() is None]


def _committed(error: KafkaError | None, partitions: list[TopicPartition]) -> None:
    # Nothing new to commit is not a failure; any other is made good by the next commit.
    if error is not None and error.code() != KafkaError._NO_OFFSET:
        log.warning("Kafka: committing the group's offsets failed (%s)", error.str())


def _position(message: Message) -> int:
    headers = message.headers()
    if isinstance(headers, list):
        for key, value in headers:
            if key == "position" and isinstance(value, bytes):
                return int(value)
    raise ValueError(f"a message without a position at offset {message.offset()}")


def record_for_views(message: Message) -> LogRecord:
    """A record as the views read it: from the stored state, without the domain event object
    (the serve nodes' feed decodes that: `kafka_topic.record_from_message`)."""
    headers = message_headers(message)
    return record_from_state(
        int(headers["position"]),
        headers["originator_id"].decode(),
        int(headers["version"]),
        headers["topic"].decode(),
        message.value() or b"",
        partition=message_partition(message),
    )
