"""The relay: publishes the store's log to Kafka, in log order, at least once.

It saves how far it got only after Kafka acknowledged; after a crash it re-sends from
there, and consumers skip what they have seen. The saved position is only where a restart
begins: a position lost with an unflushed commit costs a re-send, never an event, so it is
saved without waiting for the disk, and kept in memory between batches.
"""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from infra.log.commit_signal import CommitListener, commit_channel
from infra.log.kafka_topic import client_config, ensure_topic, headers_of, reason
from infra.settings import Settings
from infra.store.event_store import EventStore
from infra.store.schema_lock import schema_lock
from infra.store.view_database import ViewDatabase

log = logging.getLogger(__name__)

# How long Kafka may take to acknowledge a batch before it is sent again from the saved
# position (librdkafka retries within that time by itself).
DELIVERY_TIMEOUT_SECONDS = 30

_RELAY_POSITIONS = (
    "CREATE TABLE IF NOT EXISTS relay_positions (topic TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


class KafkaRelay:
    """Publishes the store's log to Kafka, in log order, at least once."""

    def __init__(self, settings: Settings, store: EventStore, views: ViewDatabase) -> None:
        self._settings = settings
        self._store = store
        self._views = views
        self._stopping = threading.Event()
        # Set by every commit to the store (LISTEN/NOTIFY), so the relay need not wait out
        # its idle poll.
        self._committed = threading.Event()
        self._listener: CommitListener | None = None
        if settings.database is not None:
            self._listener = CommitListener(
                settings.database, commit_channel(store), self._committed
            )
            self._listener.start()
        # How far Kafka has acknowledged; None: read the saved position first.
        self._sent: int | None = None
        with schema_lock(settings.database), views.transaction() as tx:
            tx.execute(_RELAY_POSITIONS)
        ensure_topic(settings)
        self._producer = self._new_producer()
        # Delivery reports of the batch being flushed: the first refusal, if any.
        self._refused: KafkaError | None = None

    def _new_producer(self) -> Producer:
        return Producer(
            client_config(
                self._settings,
                "relay",
                # Idempotent: librdkafka's retries neither duplicate nor reorder a
                # partition's records, with up to 5 requests in flight.
                **{
                    "enable.idempotence": True,
                    "acks": "all",
                    # flush() sends at once whatever lingers; the linger only lets the
                    # records of a batch being handed over travel in few requests.
                    "linger.ms": 5,
                    "message.timeout.ms": DELIVERY_TIMEOUT_SECONDS * 1000,
                    "on_delivery": self._delivered,
                },
            )
        )

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None and self._refused is None:
            self._refused = error

    def position(self) -> int:
        with self._views.transaction() as tx:
            rows = tx.fetchall(
                "SELECT position FROM relay_positions WHERE topic = ?",
                (self._settings.kafka_topic,),
            )
        return int(rows[0][0]) if rows else 0

    def _save_position(self, position: int) -> None:
        with self._views.transaction() as tx:
            if self._settings.database is not None:
                tx.execute("SET LOCAL synchronous_commit TO OFF")
            tx.execute(
                "INSERT INTO relay_positions (topic, position) VALUES (?, ?)"
                " ON CONFLICT (topic) DO UPDATE SET position = excluded.position",
                (self._settings.kafka_topic, position),
            )

    def relay_once(self, limit: int = 1000) -> int:
        if self._sent is None:
            self._sent = self.position()
        start = self._sent
        notifications = self._store.app.recorder.select_notifications(
            start=start, limit=limit, inclusive_of_start=False
        )
        if not notifications:
            return 0
        self._refused = None
        topic = self._settings.kafka_topic
        produce = self._producer.produce
        for n in notifications:
            produce(topic, n.state, str(n.originator_id).encode(), headers=headers_of(n))
        left = self._producer.flush(DELIVERY_TIMEOUT_SECONDS + 5)
        # Acknowledged, every one, before the position moves past them.
        if self._refused is not None:
            refused, self._refused = self._refused, None
            if refused.fatal():
                # The idempotent producer can no longer keep its guarantees: a new one.
                self._producer.purge()
                self._producer = self._new_producer()
            raise KafkaException(refused)
        if left:
            raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT))
        self._save_position(notifications[-1].id)
        self._sent = notifications[-1].id
        return len(notifications)

    def run(self, idle_sleep: float = 0.02) -> None:
        while not self._stopping.is_set():
            self._committed.clear()  # before reading, so a commit during the read wakes us
            try:
                sent = self.relay_once()
            except KafkaException as error:
                log.error(
                    "Kafka did not take the log (%s); resending from the saved position",
                    reason(error),
                )
                self._sent = None
                self._stopping.wait(1)
                continue
            except Exception:
                log.exception("relay failed; retrying from the saved position")
                self._sent = None
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
        # What was handed over is sent, as kafka-python's close() did; then the client goes.
        self._producer.flush(DELIVERY_TIMEOUT_SECONDS)
        self._producer.close()
