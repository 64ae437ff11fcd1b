"""The command bus decides a batch without a store read per command, answers it with one
callback per event loop, and still never decides on a state another writer has moved past."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from domain.context import CommandContext
from domain.deviceauth.commands import (
    ClearDevicePublicKey,
    SetDevicePublicKey,
    UploadAccessList,
)
from domain.deviceauth.device_access import DeviceAccess, device_access_id
from domain.errors import DomainError
from infra.command_bus import CommandBus
from infra.metrics import COMMANDS
from infra.root.services import HANDLERS
from infra.store.event_store import EventStore
from tests.integration.running import running_hub, settings_for

pytestmark = pytest.mark.anyio

CONTEXT = CommandContext(actor_id="tester", actor_kind="test", source_address="127.0.0.1")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def set_key(identifier: str, key: str) -> SetDevicePublicKey:
    return SetDevicePublicKey(device_identifier=identifier, public_key=key, context=CONTEXT)


@contextmanager
def counting(target: Any, name: str) -> Iterator[list[int]]:
    """Counts calls of target.name (a real call each time; nothing is faked)."""
    calls = [0]
    original = getattr(target, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    setattr(target, name, counted)
    try:
        yield calls
    finally:
        delattr(target, name)  # the class's method shows through again


def ok_count(command_type: str) -> float:
    return sum(
        sample.value
        for metric in COMMANDS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
        and sample.labels == {"type": command_type, "outcome": "ok"}
    )


async def test_a_batch_on_known_aggregates_reads_no_aggregate_per_command(
    deployment: dict[str, str],
) -> None:
    async with running_hub(deployment) as hub:
        await asyncio.gather(*(hub.bus.execute(set_key(f"known-{n}", "a")) for n in range(100)))
        repository = hub.store.app.repository
        with counting(repository, "get") as loads:
            await asyncio.gather(*(hub.bus.execute(set_key(f"known-{n}", "b")) for n in range(100)))
        assert loads[0] == 0
        assert all(
            repository.get(device_access_id(f"KNOWN-{n}")).public_key == "b" for n in range(100)
        )


async def test_a_batch_is_answered_with_one_callback_per_loop(
    deployment: dict[str, str],
) -> None:
    async with running_hub(deployment) as hub:
        loop = asyncio.get_running_loop()
        before = ok_count("SetDevicePublicKey")
        with counting(loop, "call_soon_threadsafe") as callbacks:
            results = await asyncio.gather(
                *(hub.bus.execute(set_key(f"answered-{n}", "k")) for n in range(200)),
                hub.bus.execute(set_key("refused", "   ")),
                return_exceptions=True,
            )
        assert results[:200] == [None] * 200 and isinstance(results[200], DomainError)
        # Not one per command; other parts of the hub (feed, views) use the loop too.
        assert callbacks[0] < 100
        assert ok_count("SetDevicePublicKey") - before == 200


async def test_a_change_by_another_writer_is_decided_on_not_the_cached_state(
    deployment: dict[str, str],
) -> None:
    """This node cached 'ours'; another node then set 'theirs', and created a device this
    node never saw. Setting 'ours' again and clearing the unseen device's key must both
    change something here: decided on the cached (or missing) state, each would be a
    no-op that never reaches the conditional append, and the update would be lost."""
    async with running_hub(deployment) as hub:
        await hub.bus.execute(set_key("moved", "ours"))
        other_store = EventStore(settings_for(deployment))
        other = CommandBus(other_store.app, HANDLERS)
        try:
            other.execute_now(set_key("moved", "theirs"))
            other.execute_now(set_key("unseen", "theirs"))
        finally:
            other_store.close()
        await asyncio.gather(
            hub.bus.execute(set_key("moved", "ours")),
            hub.bus.execute(ClearDevicePublicKey(device_identifier="unseen", context=CONTEXT)),
        )
        repository = hub.store.app.repository
        moved: DeviceAccess = repository.get(device_access_id("MOVED"))
        unseen: DeviceAccess = repository.get(device_access_id("UNSEEN"))
        assert (moved.public_key, moved.version) == ("ours", 4)
        assert (unseen.public_key, unseen.version) == (None, 3)


async def test_a_command_failing_half_way_leaves_nothing_in_its_batch(
    deployment: dict[str, str],
) -> None:
    """The upload changes the first device, then refuses on the second row: the batch
    saves the other commands, and none of the upload's change."""
    async with running_hub(deployment) as hub:
        await hub.bus.execute(set_key("half", "before"))
        results = await asyncio.gather(
            hub.bus.execute(
                UploadAccessList(rows=(("half", "upload"), ("x", "  ")), context=CONTEXT)
            ),
            hub.bus.execute(set_key("half-other", "k")),
            hub.bus.execute(
                UploadAccessList(rows=(("half", "again"), ("y", "  ")), context=CONTEXT)
            ),
            return_exceptions=True,
        )
        assert isinstance(results[0], DomainError) and isinstance(results[2], DomainError)
        assert results[1] is None
        repository = hub.store.app.repository
        half: DeviceAccess = repository.get(device_access_id("HALF"))
        assert (half.public_key, half.version) == ("before", 2)
        assert repository.get(device_access_id("HALF-OTHER")).public_key == "k"
        await hub.bus.execute(set_key("half", "after"))
        assert repository.get(device_access_id("HALF")).version == 3


def test_a_command_run_without_the_bus_thread_is_answered(deployment: dict[str, str]) -> None:
    store = EventStore(settings_for(deployment))
    bus = CommandBus(store.app, HANDLERS)
    try:
        assert bus.execute_now(set_key("direct", "k")) is None
        with pytest.raises(DomainError):
            bus.execute_now(set_key("direct", "   "))
        assert store.app.repository.get(device_access_id("DIRECT")).public_key == "k"
    finally:
        store.close()


async def test_readers_see_each_commit_while_the_bus_decides_on_its_own_copies(
    deployment: dict[str, str],
) -> None:
    async with running_hub(deployment) as hub:
        await hub.bus.execute(set_key("reader", "a"))
        seen = hub.aggregates.get(DeviceAccess, device_access_id("READER"))
        assert seen is not None and seen.public_key == "a"
        seen.public_key = "changed by a reader"  # a reader's copy is its own
        await hub.bus.execute(set_key("reader", "b"))
        await hub.bus.execute(set_key("reader", "b"))  # no change: decided on the bus's copy
        seen = hub.aggregates.get(DeviceAccess, device_access_id("READER"))
        assert seen is not None and (seen.public_key, seen.version) == ("b", 3)


def test_on_commit_is_told_the_records_of_each_commit_in_log_order(
    deployment: dict[str, str],
) -> None:
    store = EventStore(settings_for(deployment))
    told: list[tuple[int, list[str], list[Any]]] = []
    bus = CommandBus(
        store.app,
        HANDLERS,
        on_commit=lambda position, saved, records: told.append((position, saved, records)),
    )
    try:
        head = store.head()
        bus.execute_now(set_key("told-1", "k"))
        bus.execute_now(UploadAccessList(rows=(("told-1", "k2"), ("told-2", "k")), context=CONTEXT))
        records = [r for _, _, batch in told for r in batch]
        assert [position for position, _, _ in told] == [batch[-1].position for *_, batch in told]
        assert told[1][1] == [str(device_access_id("TOLD-1")), str(device_access_id("TOLD-2"))]
        stored = store.read(head)
        assert [
            (r.position, r.aggregate_id, r.version, r.type, r.timestamp, r.payload) for r in records
        ] == [
            (r.position, r.aggregate_id, r.version, r.type, r.timestamp, r.payload) for r in stored
        ]
        assert [type(r.event) for r in records] == [type(r.event) for r in stored]
        assert [r.payload for r in records] == [r.payload for r in store.read_states(head)]
    finally:
        store.close()
