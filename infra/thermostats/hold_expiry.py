"""Returns thermostats to Auto when their hold ends, and keeps Auto on its weekly schedule.

The due time lives in the store (and its view), not in a timer, so a restart loses nothing:
the next sweep finds every hold that ended meanwhile. Each node may sweep; expiring twice
changes nothing, because the aggregate only expires a hold that is still due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from domain.context import CommandContext
from domain.thermostats.commands import ExpireHold, FollowSchedule
from infra.command_bus import CommandBus
from infra.store.view_reader import ViewReader
from projections.thermostat_view import expired_holds, thermostats_in_auto

log = logging.getLogger(__name__)
_SCHEDULER = CommandContext(actor_id="thermostat-clock", actor_kind="system")
SCHEDULE_EVERY = 30  # sweeps: schedules start on whole minutes


class HoldExpiry:
    def __init__(self, views: ViewReader, bus: CommandBus, interval: float = 1.0) -> None:
        self._views = views
        self._bus = bus
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hold-expiry")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sweep(self) -> int:
        now = datetime.now(UTC)
        due = await self._views.query(expired_holds, now)
        for serial in due:
            await self._bus.execute(ExpireHold(serial_number=serial, now=now, context=_SCHEDULER))
        return len(due)

    async def follow_schedules(self) -> None:
        """Auto thermostats take their schedule's set point when a new entry starts."""
        now = datetime.now(UTC)
        for serial in await self._views.query(thermostats_in_auto):
            await self._bus.execute(
                FollowSchedule(serial_number=serial, now=now, context=_SCHEDULER)
            )

    async def _run(self) -> None:
        ticks = 0
        while True:
            try:
                await self.sweep()
                if ticks % SCHEDULE_EVERY == 0:
                    await self.follow_schedules()
            except Exception:
                log.exception("thermostat sweep failed; retrying")
            ticks += 1
            await asyncio.sleep(self._interval)
