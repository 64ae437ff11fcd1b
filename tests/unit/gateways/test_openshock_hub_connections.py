"""A control request's items for one hub go out as one command list, however the log feed
splits them (Kafka hands a commit's records over in as many polls as it likes)."""

from __future__ import annotations

import asyncio
from typing import Any

from domain.openshock.commands import ControlItem, ControlShockers
from gateways.openshock import hub_frames
from gateways.openshock.hub_connections import HubConnections, HubSession
from infra.log.feed import LogFeed
from tests.unit.domain.openshock.world import context, session
from tests.unit.projections.openshock_world import add_hub, add_shocker, people


class _Socket:
    """What a HubSession writes to: the frames, decoded as the hub reads them."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {"extensions": {}}
        self.sent: list[hub_frames.GatewayMessage] = []

    async def send_bytes(self, frame: bytes) -> None:
        self.sent.append(hub_frames.read_gateway_message(frame, 2))


def test_a_requests_items_split_over_two_reads_are_one_command_list() -> None:
    world = people()
    hub = add_hub(world, "Home")
    first, second = add_shocker(world, hub, "Left", 1), add_shocker(world, hub, "Right", 2)
    world.run(
        ControlShockers(
            caller=session(),
            items=tuple(
                ControlItem(shocker_id=s, type="Vibrate", intensity=9, duration=300)
                for s in (first, second)
            ),
            context=context(),
        )
    )
    *_, one, other = world.records

    async def delivered(batches: list[list[Any]]) -> list[hub_frames.GatewayMessage]:
        feed = LogFeed()
        hubs = HubConnections(feed, lambda token_hash: None)
        socket = _Socket()
        hubs.add(
            HubSession(
                hub_id=str(hub),
                session_id="s1",
                schema=2,
                firmware_version="1.5.2",
                websocket=socket,  # type: ignore[arg-type]
                token_hash="h",
            )
        )
        for batch in batches:
            feed.publish(batch)
        await asyncio.sleep(0.01)
        return socket.sent

    together = asyncio.run(delivered([[one, other]]))
    apart = asyncio.run(delivered([[one], [other]]))
    assert together == apart
    [commands] = apart
    assert isinstance(commands, hub_frames.GatewayCommands)
    assert [c.rf_id for c in commands.commands] == [1, 2]
