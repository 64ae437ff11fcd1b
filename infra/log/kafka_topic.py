"""The Kafka topic that carries the log, and how a stored event travels in it.

The store stays the source of truth for order and concurrency (Kafka has no
conditional append). Each stored event is published keyed by aggregate id (per-aggregate
order), with its global position in a header; every consumer skips positions it has
already seen, per partition, so a re-sent event changes nothing.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from infra.settings import Settings
from infra.store.event_store import EventStore
from projections.records import LogRecord


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


def headers_of(n: Notification) -> list[tuple[str, bytes]]:
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
