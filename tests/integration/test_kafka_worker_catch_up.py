"""A projection worker consuming the topic from offset 0: into empty views it applies every
event once; over views already filled from the store it decodes nothing and changes nothing."""

from __future__ import annotations

import time

import pytest

from domain.context import CommandContext
from domain.deviceauth.commands import SetDevicePublicKey
from infra.command_bus import CommandBus
from infra.root.services import HANDLERS
from infra.settings import Settings
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase
from projections.audit_view import AuditFilter, AuditView, query_audit
from projections.device_access_view import DeviceAccessView, list_devices
from tests.integration.running import settings_for

CLI = CommandContext(actor_id="test", actor_kind="cli")
DEVICES = 40


def relayed(settings: Settings, store: EventStore) -> int:
    from infra.log.kafka_relay import KafkaRelay

    bus = CommandBus(store.app, HANDLERS)
    for n in range(DEVICES):  # a device each: Registered and PublicKeySet
        bus.execute_now(
            SetDevicePublicKey(device_identifier=f"CATCHUP-{n}", public_key="k", context=CLI)
        )
    head = store.head()
    relay = KafkaRelay(settings, store, ViewDatabase(settings))
    try:
        while relay.position() < head:
            relay.relay_once()
    finally:
        relay.close()
    return head


def consumed(settings: Settings, store: EventStore, runner: ProjectionRunner) -> int:
    """Messages a new worker reads until the topic's end (no more for a second)."""
    from infra.log.kafka_worker import KafkaProjectionWorker

    worker = KafkaProjectionWorker(settings, store, runner)
    total, quiet_since = 0, time.monotonic()
    try:
        while time.monotonic() - quiet_since < 1.0:
            came = worker.poll_and_apply()
            total += came
            if came:
                quiet_since = time.monotonic()
    finally:
        worker.close()
    return total


def forget_group(settings: Settings) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    group = f"hubline-projections.{settings.kafka_topic}"
    admin.delete_consumer_groups([group], request_timeout=30)[group].result()


def test_a_worker_reading_the_topic_from_its_start(
    deployment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(deployment)
    if settings.log != "kafka":
        return  # no topic in the embedded deployment
    from infra.log import kafka_worker

    decoded: list[int] = []
    decode = kafka_worker.record_for_views

    def counted(message: object) -> object:
        record = decode(message)
        decoded.append(record.position)
        return record

    monkeypatch.setattr(kafka_worker, "record_for_views", counted)
    store, views = EventStore(settings), ViewDatabase(settings)
    try:
        head = relayed(settings, store)
        runner = ProjectionRunner(views, [DeviceAccessView(), AuditView()])
        assert consumed(settings, store, runner) == head
        assert sorted(decoded) == list(range(1, head + 1))
        with views.transaction(write=False) as tx:
            devices = list_devices(tx)
            audited = query_audit(tx, AuditFilter(limit=head + 1))
        assert len(devices) == DEVICES and all(d.public_key == "k" for d in devices)
        assert [a["position"] for a in audited] == list(range(1, head + 1))

        # The group forgotten, as a new one reads the topic from offset 0 over the filled
        # views: every message comes again and is skipped before it is decoded.
        forget_group(settings)
        decoded.clear()
        again = ProjectionRunner(views, [DeviceAccessView(), AuditView()])
        assert again.applied_by_all() == {0: head}
        assert consumed(settings, store, again) == head
        assert decoded == []
    finally:
        views.close()
        store.close()
