"""The Kafka topic that carries the log, and how a stored event travels in it.

The store stays the source of truth for order and concurrency (Kafka has no
conditional append). Each stored event is published keyed by aggregate id (per-aggregate
order), with its global position in a header; every consumer skips positions it has
already seen, per partition, so a re-sent event changes nothing.

The clients are librdkafka's (confluent-kafka): it parses record batches in C, where
kafka-python spent ~8 µs of Python per record, and it reconnects to a restarted broker
by itself. What it reports goes to our logging, one line per error, never a traceback.
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast

from confluent_kafka import Consumer, KafkaError, KafkaException, Message
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from eventsourcing.persistence import Notification

from infra.settings import Settings
from infra.store.event_store import EventStore
from projections.records import LogRecord

log = logging.getLogger(__name__)
# librdkafka's own log lines, critical ones only: every error it logs also reaches the
# error callback, which logs it once a minute.
_librdkafka = logging.getLogger("librdkafka")
_REPEAT_SECONDS = 60.0

# How long an admin request may wait for the broker before it counts as unreachable.
ADMIN_TIMEOUT_SECONDS = 10.0


class _ErrorLog:
    """librdkafka's error callback. An unreachable broker is reported on every reconnect
    attempt; each kind of error is logged once a minute, the repeats only at DEBUG."""

    def __init__(self, client: str) -> None:
        self._client = client
        self._logged: dict[int, float] = {}

    def __call__(self, error: KafkaError) -> None:
        now = time.monotonic()
        if error.fatal():
            log.error("Kafka %s: fatal: %s", self._client, error.str())
        elif now - self._logged.get(error.code(), -_REPEAT_SECONDS) >= _REPEAT_SECONDS:
            self._logged[error.code()] = now
            log.warning("Kafka %s: %s (librdkafka retries by itself)", self._client, error.str())
        else:
            log.debug("Kafka %s: %s", self._client, error.str())


def client_config(settings: Settings, client: str, **config: Any) -> dict[str, Any]:
    """A librdkafka configuration for one of our clients (`client` names it in the logs)."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "client.id": f"hubline-{client}",
        "logger": _librdkafka,
        "log_level": 2,
        "error_cb": _ErrorLog(client),
        # A restarted broker is found again within a second or two, not up to 10 s later.
        "reconnect.backoff.max.ms": 1000,
        **config,
    }


def reason(error: KafkaException) -> str:
    """What a librdkafka exception says, without its KafkaError{code=...} wrapping."""
    first = error.args[0] if error.args else None
    return first.str() if isinstance(first, KafkaError) else str(error)


def ensure_topic(settings: Settings) -> None:
    """Creates the log's topic with the configured partitions unless it exists. Raises
    KafkaException if the broker does not answer within ADMIN_TIMEOUT_SECONDS."""
    admin = AdminClient(client_config(settings, "admin"))
    topics = admin.list_topics(timeout=ADMIN_TIMEOUT_SECONDS).topics
    if settings.kafka_topic in topics:
        return
    topic = NewTopic(
        settings.kafka_topic,
        num_partitions=settings.kafka_partitions,
        replication_factor=1,
        # The topic is a replica of the store's log: keep all of it.
        config={"retention.ms": "-1", "retention.bytes": "-1"},
    )
    created = admin.create_topics([topic], request_timeout=ADMIN_TIMEOUT_SECONDS)
    try:
        created[settings.kafka_topic].result()
    except KafkaException as error:
        if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise


def kafka_reachable(settings: Settings) -> bool:
    # Quiet: a readiness probe answers False, the node's own clients log the outage.
    quiet: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "logger": logging.getLogger("librdkafka.probe"),
        "error_cb": lambda error: None,
        "log_level": 0,
    }
    admin = AdminClient(quiet)
    try:
        admin.list_topics(timeout=3)
        return True
    except KafkaException:
        return False


def take(consumer: Consumer, most: int, timeout: float) -> list[Message]:
    """Up to `most` messages: waits up to `timeout` for the first, then takes only what has
    already arrived (librdkafka's consume() would wait out its timeout for a full batch)."""
    first = consumer.poll(timeout)
    if first is None:
        return []
    return [first, *consumer.consume(most - 1, 0)] if most > 1 else [first]


def headers_of(n: Notification) -> list[tuple[str, str | bytes | None]]:
    return [
        ("position", str(n.id).encode()),
        ("topic", n.topic.encode()),
        ("originator_id", str(n.originator_id).encode()),
        ("version", str(n.originator_version).encode()),
    ]


def message_headers(message: Message) -> dict[str, bytes]:
    headers = message.headers()
    if not isinstance(headers, list):
        raise ValueError(f"a message without headers at offset {message.offset()}")
    # Ours are all bytes (headers_of); a foreign message fails when it is decoded.
    return cast(dict[str, bytes], dict(headers))


def message_partition(message: Message) -> int:
    partition = message.partition()
    return 0 if partition is None else partition


def record_from_message(store: EventStore, message: Message) -> LogRecord:
    headers = message_headers(message)
    notification = Notification(
        id=int(headers["position"]),
        originator_id=headers["originator_id"].decode(),
        originator_version=int(headers["version"]),
        topic=headers["topic"].decode(),
        state=message.value() or b"",
    )
    return store.decode(notification, partition=message_partition(message))
