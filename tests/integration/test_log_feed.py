"""The live log reaches gateways once per position and in log order, whoever wrote it.

The embedded feed publishes the records a commit hands it without reading the store, and
reads the store for whatever it cannot place (a gap left by another writer).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from domain.context import CommandContext
from domain.deviceauth.commands import SetDevicePublicKey
from infra.command_bus import CommandBus
from infra.log.feed import EmbeddedLogFeed
from infra.root.services import HANDLERS
from infra.store.event_store import EventStore
from projections.records import LogRecord
from tests.integration.running import eventually, running_hub, settings_for, start_relay

pytestmark = pytest.mark.anyio

CONTEXT = CommandContext(actor_id="tester", actor_kind="test", source_address="127.0.0.1")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def set_key(identifier: str, key: str) -> SetDevicePublicKey:
    return SetDevicePublicKey(device_identifier=identifier, public_key=key, context=CONTEXT)


class CountedReads:
    """The store's reads, counted: what the feed must not need for handed records."""

    def __init__(self, store: EventStore) -> None:
        self.count = 0
        self._read = store.read

    def __call__(self, after: int, limit: int = 500, stop: int | None = None) -> list[LogRecord]:
        self.count += 1
        return self._read(after, limit, stop)


async def test_handed_records_are_published_without_a_read_and_gaps_are_read(
    data_dir: Path,
) -> None:
    store = EventStore(settings_for({"data_dir": str(data_dir)}))
    # Another writer, as the CLI is: it decides in the calling thread and wakes nobody.
    writer = CommandBus(store.app, HANDLERS)
    reads = CountedReads(store)
    store.read = reads  # type: ignore[method-assign]
    feed = EmbeddedLogFeed(store, recheck_seconds=60)  # no timer reads during the test
    published: list[int] = []

    def listen(records: Sequence[LogRecord]) -> None:
        published.extend(r.position for r in records)

    feed.add_listener(listen)
    await feed.start()
    try:
        await eventually(lambda: reads.count == 1 and not feed._reading)

        def written(n: int) -> list[LogRecord]:
            before = store.head()
            for k in range(n):
                writer.execute_now(set_key(f"feed-{before}-{k}", "key"))
            return store.read(before, 100)

        def positions(records: list[LogRecord]) -> list[int]:
            return [r.position for r in records]

        first = written(2)
        reads.count = 0
        feed.committed(first)
        await eventually(lambda: published == positions(first))
        assert reads.count == 0

        third = written(1)  # not handed over: the next commit's records leave a gap
        fourth = written(1)
        reads.count = 0
        feed.committed(fourth)
        await eventually(lambda: published == positions(first + third + fourth))
        assert reads.count >= 1

        feed.committed(first + fourth)  # handed again (at least once): not published again
        fifth = written(1)
        feed.committed(fifth)
        await eventually(lambda: published[-1] == fifth[-1].position)
        assert published == positions(first + third + fourth + fifth)
    finally:
        await feed.stop()
        store.close()


async def test_every_position_reaches_the_feed_once_in_order_with_another_writer(
    deployment: dict[str, str],
) -> None:
    async with running_hub(deployment) as hub:
        seen: list[int] = []

        def listen(records: Sequence[LogRecord]) -> None:
            seen.extend(r.position for r in records)

        hub.feed.add_listener(listen)
        await asyncio.sleep(0.5)  # the Kafka feed starts at the end of the topic
        start = await asyncio.to_thread(hub.store.head)
        other_store = EventStore(hub.settings)
        other = CommandBus(other_store.app, HANDLERS)

        def other_writes() -> None:
            for n in range(30):
                other.execute_now(set_key(f"other-{n}", "key"))

        try:
            thread = threading.Thread(target=other_writes)
            thread.start()
            for n in range(30):
                await hub.bus.execute(set_key(f"mine-{n}", "key"))
            await asyncio.to_thread(thread.join)
            stored = [r.position for r in await asyncio.to_thread(hub.store.read, start, 1000)]
            assert len(stored) >= 60  # each first write registers the device too
            # Earlier positions may still arrive through Kafka (the relay's start-up).
            await eventually(lambda: len([p for p in seen if p > start]) >= len(stored))
            await asyncio.sleep(0.3)  # anything published twice would show by now
            assert [p for p in seen if p > start] == stored
        finally:
            other_store.close()


async def test_a_restarted_relay_resends_and_the_feed_publishes_each_position_once(
    deployment: dict[str, str],
) -> None:
    if deployment.get("log") != "kafka":
        pytest.skip("re-sending is the relay's concern")
    async with running_hub(deployment) as hub:
        seen: list[int] = []

        def listen(records: Sequence[LogRecord]) -> None:
            seen.extend(r.position for r in records)

        hub.feed.add_listener(listen)
        await asyncio.sleep(0.5)  # the Kafka feed starts at the end of the topic
        start = await asyncio.to_thread(hub.store.head)
        for n in range(5):
            await hub.bus.execute(set_key(f"restart-{n}", "key"))
        head = await asyncio.to_thread(hub.store.head)
        await eventually(lambda: bool(seen) and seen[-1] == head)
        # A relay that crashed before saving its position starts again from there.
        with hub.views.transaction() as tx:
            tx.execute("UPDATE relay_positions SET position = 0")
        again = start_relay(hub.settings)
        try:
            await eventually(lambda: again.target.position() == head)  # it sent them again
            await asyncio.sleep(1)  # anything published twice would show by now
        finally:
            await asyncio.to_thread(again.stop)
        mine = [p for p in seen if p > start]
        assert mine == sorted(set(mine))
        assert mine[-1] == head
