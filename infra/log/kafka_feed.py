"""The gateway nodes' feed of the log from Kafka: every partition, from the end."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from infra.log.feed import LogFeed
from infra.log.kafka_topic import ensure_topic, record_from_message
from infra.settings import Settings
from infra.store.event_store import EventStore
from projections.records import LogRecord

log = logging.getLogger(__name__)


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
