"""Subscribe/Unsubscribe arguments on SENZ's hub: anything a client sends is a HubError at worst."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from domain.principals.permissions import Principal
from gateways.senz.change_notifications import ChangeNotifications
from gateways.signalr.hub_server import HubConnection, HubError
from infra.log.feed import LogFeed


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def subscribe(arguments: list[Any]) -> dict[int, int]:
    notifications = ChangeNotifications(LogFeed(), validator=None)  # type: ignore[arg-type]
    hub = notifications.hub()
    connection = HubConnection("c1", Principal("u1", "user", frozenset()), websocket=None)  # type: ignore[arg-type]

    async def run() -> dict[int, int]:
        await hub.on_connected(connection)
        await hub.methods["Subscribe"](connection, arguments)
        return dict(connection.items["subscriptions"])

    return asyncio.run(run())


@pytest.mark.parametrize(
    "types, expected",
    [(["1", "2"], {1: 1, 2: 1}), ([2], {2: 1}), ([" 1 "], {1: 1}), ([1.0], {1: 1})],
)
def test_the_types_senz_clients_send(types: list[Any], expected: dict[int, int]) -> None:
    assert subscribe([types]) == expected


@pytest.mark.parametrize(
    "types",
    [
        [math.inf],
        [-math.inf],
        [math.nan],
        [1e300],
        [True],
        ["²"],
        ["1" * 5000],
        [None],
        [{"type": 1}],
        nested(1000),
        ["3"],
    ],
    ids=[
        "inf",
        "-inf",
        "nan",
        "1e300",
        "bool",
        "superscript",
        "5000 digits",
        "null",
        "object",
        "1000 deep",
        "unknown",
    ],
)
def test_odd_types_are_a_hub_error(types: list[Any]) -> None:
    with pytest.raises(HubError) as refused:
        subscribe([types])
    assert len(str(refused.value)) < 200
