"""The sweep for hubs of gone nodes rides out views that are behind (the log's outage):
one warning line a sweep, no traceback, and it looks again."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest

from domain.errors import ViewsBehind
from gateways.openshock.stale_hub_sessions import StaleHubSessions


class BehindViews:
    def __init__(self) -> None:
        self.asked = 0
        self.thrice = asyncio.Event()

    async def fresh_views(self, *names: str) -> None:
        self.asked += 1
        if self.asked >= 3:
            self.thrice.set()
        raise ViewsBehind("the views are catching up with the log (position 9)")


class NoLeases:
    def others(self, node_id: str) -> dict[str, float]:
        return {}


def test_views_behind_are_a_warning_and_the_sweep_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    views = BehindViews()

    async def run() -> None:
        sweep = StaleHubSessions(
            bus=cast(Any, None),
            views=cast(Any, views),
            leases=NoLeases(),
            connections=cast(Any, None),
            node_id=lambda: "node-a",
            expires_seconds=15.0,
            every_seconds=0.01,
        )
        await sweep.start()
        await asyncio.wait_for(views.thrice.wait(), 10)
        await sweep.stop()

    with caplog.at_level(logging.WARNING):
        asyncio.run(run())
    assert views.asked >= 3
    assert all(r.exc_info is None for r in caplog.records)
    assert any("catching up with the log" in r.getMessage() for r in caplog.records)
