"""Aggregates read many at a time (a batch of cold commands) equal what repository.get
reads one at a time, with and without snapshots, on both stores; and a bus whose newest
copies hold fewer aggregates than a batch touches decides on what the store holds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.context import CommandContext
from domain.deviceauth.commands import SetDevicePublicKey
from domain.deviceauth.device_access import DeviceAccess, device_access_id
from domain.thermostats.thermostat import Mode, Thermostat
from infra.command_bus import CommandBus
from infra.root.services import HANDLERS
from infra.store.cold_reads import read_aggregates
from infra.store.event_appender import EventAppender
from infra.store.event_store import EventStore
from infra.store.snapshots import Snapshotter
from tests.integration.running import settings_for

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
META: dict[str, Any] = {"actor_id": "ada", "actor_kind": "user", "source_address": None}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_many_aggregates_read_at_once_equal_repository_get(deployment: dict[str, str]) -> None:
    store = EventStore(settings_for(deployment))
    try:
        appender = EventAppender(store.app)
        snapshots = Snapshotter(store.app, interval=4)
        device = DeviceAccess(device_identifier=f"COLD-{uuid4().hex[:8]}", meta=META)
        device.set_public_key(device.device_identifier, "KEY", "ed25519", None, META)
        appender.append([device])
        # Snapshots at versions 4 and 8, then two events after the second (10 in all).
        thermostat = Thermostat(
            serial_number=f"C{uuid4().hex[:8]}", owner="ada", name="H", meta=META
        )
        for n in range(9):
            mode = Mode.HOLD if n % 2 else Mode.MANUAL
            thermostat.change_mode(mode, 1500 + n, AT + timedelta(hours=n), META)
            records = appender.append([thermostat])
            snapshots.after_save([thermostat], records)
        assert store.app.snapshots is not None
        assert len(list(store.app.snapshots.get(thermostat.id))) == 2
        absent = uuid4()

        found = read_aggregates(store.app, [device.id, thermostat.id, absent, device.id])

        assert found == {
            device.id: store.app.repository.get(device.id),
            thermostat.id: store.app.repository.get(thermostat.id),
            absent: None,
        }
        assert found[thermostat.id] == thermostat and thermostat.version == 10
        assert read_aggregates(store.app, []) == {}
    finally:
        store.close()


@pytest.mark.anyio
async def test_a_batch_larger_than_the_newest_copies_decides_on_the_store(
    deployment: dict[str, str],
) -> None:
    """Forty devices cycled through a bus that keeps four: every second round finds them
    cold, reads them at once, and changes each key once without registering it again."""
    settings = settings_for(deployment).with_overrides(aggregate_cache_size=4)
    store = EventStore(settings)
    bus = CommandBus(store.app, HANDLERS, max_batch_size=500)
    context = CommandContext(actor_id="ada", actor_kind="user")
    names = [f"CYCLE-{uuid4().hex[:8]}" for _ in range(40)]
    bus.start()
    try:
        for round_ in range(3):
            await asyncio.gather(
                *(
                    bus.execute(
                        SetDevicePublicKey(
                            device_identifier=name, public_key=f"key-{round_}", context=context
                        )
                    )
                    for name in names
                )
            )
        for name in names:
            device: object = store.app.repository.get(device_access_id(name))
            assert isinstance(device, DeviceAccess)
            assert (device.public_key, device.version) == ("key-2", 4)
    finally:
        bus.stop()
        store.close()
