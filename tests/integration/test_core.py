"""The core on both deployments: group commit, concurrency, projections, the live log."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from domain.context import CommandContext
from domain.deviceauth.commands import RecordChallengePassed, SetDevicePublicKey
from domain.deviceauth.device_access import DeviceAccess, device_access_id
from domain.errors import DomainError
from infra.command_bus import CommandBus
from infra.metrics import BATCH_SIZE
from infra.root.services import HANDLERS, all_projections
from infra.settings import Settings
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase
from projections.device_access_view import get_device, list_devices
from projections.records import LogRecord
from tests.integration.running import eventually, running_hub, settings_for

pytestmark = pytest.mark.anyio

CONTEXT = CommandContext(actor_id="tester", actor_kind="test", source_address="127.0.0.1")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def set_key(identifier: str, key: str) -> SetDevicePublicKey:
    return SetDevicePublicKey(device_identifier=identifier, public_key=key, context=CONTEXT)


def batch_count() -> float:
    return next(s.value for s in BATCH_SIZE.collect()[0].samples if s.name.endswith("_count"))


async def test_concurrent_commands_share_commits_and_all_land(deployment: dict[str, str]) -> None:
    async with running_hub(deployment) as hub:
        commits_before = batch_count()
        await asyncio.gather(
            *(hub.bus.execute(set_key(f"dev-{n}", f"key-{n}")) for n in range(300))
        )
        assert batch_count() - commits_before < 300  # group commit: fewer commits than commands
        await hub.view_reader.fresh_views("device_access")
        rows = await hub.view_reader.query(list_devices)
        assert {r.device_identifier: r.public_key for r in rows} == {
            f"DEV-{n}": f"key-{n}" for n in range(300)
        }


async def test_commands_on_one_aggregate_in_one_batch_lose_nothing(
    deployment: dict[str, str],
) -> None:
    async with running_hub(deployment) as hub:
        await asyncio.gather(*(hub.bus.execute(set_key("same", f"key-{n}")) for n in range(50)))
        device = hub.store.app.repository.get(device_access_id("SAME"))
        assert device.version == 51  # registered once, then fifty distinct keys


async def test_a_failing_command_does_not_spoil_its_batch(deployment: dict[str, str]) -> None:
    async with running_hub(deployment) as hub:
        results = await asyncio.gather(
            hub.bus.execute(set_key("ok-1", "k1")),
            hub.bus.execute(set_key("bad", "   ")),
            hub.bus.execute(
                RecordChallengePassed(device_identifier="ok-1", public_key="other", context=CONTEXT)
            ),
            hub.bus.execute(set_key("ok-2", "k2")),
            return_exceptions=True,
        )
        assert isinstance(results[1], DomainError) and isinstance(results[2], DomainError)
        assert results[0] is None and results[3] is None
        first = hub.store.app.repository.get(device_access_id("OK-1"))
        assert first.version == 2 and not first.known


def test_two_writers_on_one_aggregate_never_lose_an_update(deployment: dict[str, str]) -> None:
    """Two processes' buses racing on one aggregate: conflicts are retried, not lost."""
    settings = settings_for(deployment)
    stores = [EventStore(settings) for _ in range(2)]
    buses = [CommandBus(store.app, HANDLERS) for store in stores]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda n: buses[n % 2].execute_now(set_key("contended", f"k{n}")), range(40)))
    device = stores[0].app.repository.get(device_access_id("CONTENDED"))
    assert device.version == 41


async def test_views_equal_a_rebuild_from_zero(deployment: dict[str, str]) -> None:
    async with running_hub(deployment) as hub:
        for n in range(20):
            await hub.bus.execute(set_key(f"r-{n % 7}", f"key-{n}"))
        await hub.view_reader.fresh_views()
        live = await hub.view_reader.query(list_devices)
        settings = hub.settings
    runner = ProjectionRunner(ViewDatabase(settings), all_projections())
    runner.rebuild("device_access", EventStore(settings))
    with runner.views.transaction(write=False) as tx:
        assert list_devices(tx) == live


async def test_the_live_log_reaches_gateways_in_order(deployment: dict[str, str]) -> None:
    async with running_hub(deployment) as hub:
        seen: list[LogRecord] = []

        def listen(records: Sequence[LogRecord]) -> None:
            seen.extend(records)

        hub.feed.add_listener(listen)
        await asyncio.sleep(0.5)  # the Kafka feed starts at the end of the topic
        for n in range(10):
            await hub.bus.execute(set_key("feed", f"key-{n}"))
        await eventually(lambda: sum(r.type == "DeviceAccess.PublicKeySet" for r in seen) >= 10)
        positions = [r.position for r in seen]
        assert positions == sorted(positions)
        assert seen[0].meta["actor_id"] == "tester"


async def test_a_resent_log_is_applied_once(deployment: dict[str, str]) -> None:
    if deployment.get("log") != "kafka":
        pytest.skip("re-sending is the relay's concern")
    async with running_hub(deployment) as hub:
        for n in range(5):
            await hub.bus.execute(set_key("resend", f"key-{n}"))
        await hub.view_reader.fresh_views()
        before = await hub.view_reader.query(get_device, "RESEND")
        # A relay that crashed before saving its position sends everything again.
        with hub.views.transaction() as tx:
            tx.execute("UPDATE relay_positions SET position = 0")
        head = hub.store.head()
        await asyncio.sleep(2)
        assert hub.runner.position("device_access") == head
        assert await hub.view_reader.query(get_device, "RESEND") == before


def test_settings_select_the_deployment() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        Settings.load({"log": "kafka"}, environ={})
    assert Settings.load({}, environ={"HUBLINE_PORT": "9999"}).port == 9999
    assert Settings.load({"port": 1}, environ={"HUBLINE_PORT": "9999"}).port == 1


async def test_a_challenge_cannot_pass_with_an_unusable_key(deployment: dict[str, str]) -> None:
    async with running_hub(deployment) as hub:
        await hub.bus.execute(set_key("state", "not a key"))
        with pytest.raises(DomainError, match="not usable"):
            await hub.bus.execute(
                RecordChallengePassed(
                    device_identifier="state", public_key="not a key", context=CONTEXT
                )
            )
        device = hub.store.app.repository.get(device_access_id("STATE"))
        assert isinstance(device, DeviceAccess) and device.known is False


async def test_a_thousand_concurrent_commands_a_tenth_contended_are_each_answered_right(
    deployment: dict[str, str],
) -> None:
    """Group commit under load: 1,000 commands at once, 100 of them racing a second writer
    (another node's bus) on the same aggregates and 50 refused by the domain. Every command
    gets its own answer, and everything acknowledged is stored."""
    async with running_hub(deployment) as hub:
        other_store = EventStore(hub.settings)
        other = CommandBus(other_store.app, HANDLERS)
        other.start()
        try:
            plain = [set_key(f"plain-{n}", f"key-{n}") for n in range(800)]
            refused = [set_key(f"refused-{n}", "   ") for n in range(50)]
            ours = [set_key(f"contended-{n}", f"ours-{n}") for n in range(50)]
            theirs = [set_key(f"contended-{n}", f"theirs-{n}") for n in range(50)]
            commands = [*plain, *refused, *ours]
            order = list(range(len(commands)))
            random.Random(7).shuffle(order)
            results = await asyncio.gather(
                *(hub.bus.execute(commands[i]) for i in order),
                *(other.execute(command) for command in theirs),
                return_exceptions=True,
            )
        finally:
            other.stop()
        answers = dict(zip([commands[i] for i in order] + theirs, results, strict=True))
        assert all(answers[c] is None for c in [*plain, *ours, *theirs])
        assert all(isinstance(answers[c], DomainError) for c in refused)

        repository = hub.store.app.repository
        for n in range(50):
            device = repository.get(device_access_id(f"CONTENDED-{n}"))
            assert device.version == 3  # registered by one writer, then both keys, none lost
            assert device.public_key in (f"ours-{n}", f"theirs-{n}")
        await hub.view_reader.fresh_views("device_access")
        listed = await hub.view_reader.query(list_devices)
        rows = {r.device_identifier: r.public_key for r in listed}
        assert all(rows[f"PLAIN-{n}"] == f"key-{n}" for n in range(800))
        assert not any(identifier.startswith("REFUSED-") for identifier in rows)
