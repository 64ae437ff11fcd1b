"""The librdkafka clients as the log uses them: the relay moves its position only past what
Kafka acknowledged, says so in one line when Kafka does not, and a poll hands over what has
arrived without waiting for a full batch."""

from __future__ import annotations

import logging
import threading

import pytest

from domain.context import CommandContext
from domain.deviceauth.commands import SetDevicePublicKey
from infra.command_bus import CommandBus
from infra.root.services import HANDLERS
from infra.store.event_store import EventStore
from infra.store.view_database import ViewDatabase
from tests.integration.running import settings_for

CLI = CommandContext(actor_id="test", actor_kind="cli")


def test_an_unacknowledged_batch_is_sent_again_and_logged_in_one_line(
    deployment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if deployment.get("log") != "kafka":
        pytest.skip("no relay in the embedded deployment")
    from confluent_kafka import KafkaException

    from infra.log import kafka_relay

    # A broker that never answers (nothing listens on the discard port), and Kafka given
    # one second to acknowledge instead of thirty.
    settings = settings_for({**deployment, "kafka_bootstrap": "127.0.0.1:9"})
    monkeypatch.setattr(kafka_relay, "ensure_topic", lambda settings: None)
    monkeypatch.setattr(kafka_relay, "DELIVERY_TIMEOUT_SECONDS", 1)
    store = EventStore(settings)
    CommandBus(store.app, HANDLERS).execute_now(
        SetDevicePublicKey(device_identifier="UNACKED", public_key="k", context=CLI)
    )
    relay = kafka_relay.KafkaRelay(settings, store, ViewDatabase(settings))
    try:
        with pytest.raises(KafkaException):
            relay.relay_once()
        assert relay.position() == 0

        caplog.set_level(logging.ERROR, logger=kafka_relay.__name__)
        running = threading.Thread(target=relay.run, daemon=True)
        running.start()
        relay._stopping.wait(2.5)  # at least one more refused batch
        relay.stop()
        running.join(10)
        refusals = [r for r in caplog.records if r.name == kafka_relay.__name__]
        assert refusals and all(r.exc_info is None for r in refusals)
        assert "resending from the saved position" in refusals[0].getMessage()
        assert relay.position() == 0
    finally:
        relay.close()
        store.close()


@pytest.mark.timeout(20)
def test_a_poll_hands_over_what_arrived_without_waiting_for_a_full_batch(
    deployment: dict[str, str],
) -> None:
    if deployment.get("log") != "kafka":
        pytest.skip("no Kafka in the embedded deployment")
    from confluent_kafka import Consumer, TopicPartition

    from infra.log.kafka_relay import KafkaRelay
    from infra.log.kafka_topic import client_config, take

    settings = settings_for(deployment)
    store = EventStore(settings)
    CommandBus(store.app, HANDLERS).execute_now(
        SetDevicePublicKey(device_identifier="ONE", public_key="k", context=CLI)
    )
    relay = KafkaRelay(settings, store, ViewDatabase(settings))
    consumer = Consumer(client_config(settings, "test", **{"group.id": "hubline-test"}))
    try:
        while relay.relay_once():
            pass
        consumer.assign([TopicPartition(settings.kafka_topic, 0, 0)])
        # Two events; a batch of 1,000 waited for would hold this test past its timeout.
        messages = take(consumer, 1000, 60)
        while len(messages) < 2:
            messages += take(consumer, 1000, 60)
        assert [m.offset() for m in messages] == [0, 1]
    finally:
        consumer.close()
        relay.close()
        store.close()
