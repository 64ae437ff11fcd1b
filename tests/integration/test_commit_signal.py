"""Every commit to the PostgreSQL store is heard by listeners in other connections.

The relay wakes on this rather than on its idle poll; if an append stopped notifying, the
distributed push latency would fall back to that poll without any other test noticing.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from domain.context import CommandContext
from domain.deviceauth.commands import SetDevicePublicKey
from infra.command_bus import CommandBus
from infra.log.commit_signal import CommitListener, commit_channel
from infra.root.services import HANDLERS
from infra.store.event_store import EventStore
from tests.conftest import POSTGRES_URL, fresh_postgres_database, require_services
from tests.integration.running import settings_for

CONTEXT = CommandContext(actor_id="tester", actor_kind="test", source_address="127.0.0.1")


def test_a_commit_to_the_store_wakes_its_listeners_only() -> None:
    require_services()
    assert POSTGRES_URL is not None
    databases = [fresh_postgres_database(POSTGRES_URL) for _ in range(2)]
    stores = [EventStore(settings_for({"database": database})) for database in databases]
    mine, others = threading.Event(), threading.Event()
    listeners = [
        CommitListener(databases[0], commit_channel(stores[0]), mine),
        CommitListener(databases[1], commit_channel(stores[1]), others),
    ]
    for listener in listeners:
        listener.start()
    bus = CommandBus(stores[0].app, HANDLERS)  # not started: decides in this thread
    try:
        # The listener may not be listening yet: commit until it hears one.
        for n in range(50):
            bus.execute_now(
                SetDevicePublicKey(device_identifier=f"sig-{n}", public_key="k", context=CONTEXT)
            )
            if mine.wait(0.1):
                break
        assert mine.is_set()
        assert not others.is_set()
    finally:
        for listener in listeners:
            listener.stop()
        for store in stores:
            store.close()


def test_the_sqlite_store_has_no_channel(data_dir: Path) -> None:
    store = EventStore(settings_for({"data_dir": str(data_dir)}))
    try:
        with pytest.raises(ValueError, match="PostgreSQL"):
            commit_channel(store)
    finally:
        store.close()
