"""The gateway nodes' feed of the log from Kafka: every partition, from the end."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from infra.log.feed import LogFeed
from infra.log.kafka_topic import (
    ADMIN_TIMEOUT_SECONDS,
    client_config,
    ensure_topic,
    reason,
    record_from_message,
    take,
)
from infra.settings import Settings
from infra.store.event_store import EventStore
from projections.records import LogRecord

log = logging.getLogger(__name__)

# Messages taken from librdkafka's queue per poll: the log fans out to every node, where
# a commit of a few thousand events arrives in a handful of polls.
POLL_MESSAGES = 1000


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

    def _consumer(self) -> Consumer:
        topic = self._settings.kafka_topic
        consumer = Consumer(
            client_config(
                self._settings,
                "feed",
                **{
                    # No group: offsets are assigned here and never committed. librdkafka
                    # still wants a group id to be set; it is never joined.
                    "group.id": f"hubline-feed.{topic}",
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    # A node only hears what comes after it started: a small prefetch queue.
                    "queued.max.messages.kbytes": 8192,
                },
            )
        )
        try:
            metadata = consumer.list_topics(topic, timeout=ADMIN_TIMEOUT_SECONDS).topics.get(topic)
            partitions = sorted(metadata.partitions) if metadata and metadata.partitions else [0]
            # The end offsets resolved now, not at the first fetch: what is published
            # from here on is heard.
            assigned = []
            for p in partitions:
                _, end = consumer.get_watermark_offsets(
                    TopicPartition(topic, p), timeout=ADMIN_TIMEOUT_SECONDS
                )
                assigned.append(TopicPartition(topic, p, end))
            consumer.assign(assigned)
        except Exception:
            consumer.close()
            raise
        return consumer

    def _poll(self, consumer: Consumer, call_soon: Callable[..., Any]) -> None:
        try:
            while not self._stopping.is_set():
                started = time.monotonic()
                try:
                    messages = take(consumer, POLL_MESSAGES, 0.2)
                except KafkaException as failure:
                    # The consumer keeps its positions: after an outage it reads on from there.
                    log.error("reading the log from Kafka failed (%s); retrying", reason(failure))
                    self._stopping.wait(1.0)
                    continue
                if not messages and time.monotonic() - started < 0.05:
                    self._stopping.wait(0.5)  # should a poll return at once: don't spin
                fresh: list[LogRecord] = []
                for message in messages:
                    error = message.error()
                    if error is not None:
                        log.warning("Kafka: %s", error.str())
                        continue
                    try:
                        record = record_from_message(self._store, message)
                    except Exception:
                        log.exception("undecodable message at offset %s", message.offset())
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
