"""This node's live control, hub by hub: the shockers its live sessions hold active, the
exclusive holds the log announced, and one tick loop per hub that has live sessions here.

Each tick (every 200 ms) sends ONE `SendLiveTick` for the hub with every active shocker not
under an exclusive REST control; the hub gateway, wherever the hub is connected, turns the
recorded `LiveControlTick.Sent` into one command list. Nothing active, no tick: an idle live
session costs the log nothing. Every node reads every record, so an exclusive control sent
through any node blocks live frames on all of them.

Sessions register here by the keys projections/openshock_live_access.py names (their hub,
its link, its shockers, their token) and are told what changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol
from uuid import UUID

from domain.context import CommandContext
from domain.errors import DomainError
from domain.openshock.hub_link_commands import SendLiveTick
from domain.openshock.live_control import TICK_SECONDS, ActiveFrame, tick_commands
from infra.command_bus import CommandBus
from infra.log.feed import LogFeed
from projections.openshock_live_access import LiveNotice, exclusive_change, live_changes
from projections.records import LogRecord

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class NoticeTaker(Protocol):
    def notice(self, notice: LiveNotice) -> None: ...


class _Hub:
    def __init__(self) -> None:
        self.sessions = 0
        self.active: dict[str, ActiveFrame] = {}
        self.task: asyncio.Task[None] | None = None


class LiveHubs:
    # Exclusive holds are forgotten once over; the map is swept when it doubled since the
    # last sweep, so it stays about the size of the holds still running.
    _SWEEP_FLOOR = 256

    def __init__(self, bus: CommandBus, feed: LogFeed, node_id: str, clock: Clock = time.time):
        self._bus = bus
        self._clock = clock
        self._context = CommandContext(actor_id=f"openshock-live:{node_id}", actor_kind="system")
        self._hubs: dict[str, _Hub] = {}
        self._exclusive: dict[str, float] = {}
        self._swept_at_size = self._SWEEP_FLOOR
        self._listeners: dict[str, set[NoticeTaker]] = {}
        feed.add_listener(self._on_records)

    # --- sessions ---

    def join(self, hub_id: str) -> None:
        hub = self._hubs.get(hub_id)
        if hub is None:
            hub = self._hubs[hub_id] = _Hub()
        hub.sessions += 1
        if hub.task is None:
            hub.task = asyncio.get_running_loop().create_task(
                self._run(hub_id, hub), name=f"live-ticks-{hub_id}"
            )

    def leave(self, hub_id: str) -> None:
        hub = self._hubs.get(hub_id)
        if hub is None:
            return
        hub.sessions -= 1
        if hub.sessions <= 0:
            # What the sessions held stops with them: the loop ends at its next tick.
            del self._hubs[hub_id]
            hub.active.clear()

    def listen(self, keys: Iterable[str], taker: NoticeTaker) -> None:
        for key in keys:
            self._listeners.setdefault(key, set()).add(taker)

    def unlisten(self, keys: Iterable[str], taker: NoticeTaker) -> None:
        for key in keys:
            takers = self._listeners.get(key)
            if takers is not None:
                takers.discard(taker)
                if not takers:
                    del self._listeners[key]

    # --- frames ---

    def exclusive_until(self, shocker_id: str) -> float | None:
        return self._exclusive.get(shocker_id)

    def hold(self, hub_id: str, shocker_id: str, frame: ActiveFrame) -> None:
        hub = self._hubs.get(hub_id)
        if hub is not None:
            hub.active[shocker_id] = frame

    # --- the log ---

    def _on_records(self, records: Sequence[LogRecord]) -> None:
        for record in records:
            change = exclusive_change(record)
            if change is not None:
                self._exclusive_changed(change.shocker_id, change.until)
            if not self._listeners:
                continue
            for notice in live_changes(record):
                for taker in list(self._listeners.get(notice.key, ())):
                    taker.notice(notice)

    def _exclusive_changed(self, shocker_id: str, until: float | None) -> None:
        if until is None:
            self._exclusive.pop(shocker_id, None)
            return
        self._exclusive[shocker_id] = until
        if len(self._exclusive) >= 2 * self._swept_at_size:
            now = self._clock()
            self._exclusive = {k: v for k, v in self._exclusive.items() if v > now}
            self._swept_at_size = max(self._SWEEP_FLOOR, len(self._exclusive))

    # --- the ticks ---

    async def _run(self, hub_id: str, hub: _Hub) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        try:
            while self._hubs.get(hub_id) is hub:
                due += TICK_SECONDS
                late = loop.time() - due
                if late > TICK_SECONDS:
                    due += late  # a stalled loop does not try to catch up with a burst
                await asyncio.sleep(max(0.0, due - loop.time()))
                if self._hubs.get(hub_id) is not hub:
                    return
                await self._tick(hub_id, hub)
        finally:
            hub.task = None

    async def _tick(self, hub_id: str, hub: _Hub) -> None:
        now = self._clock()
        for shocker_id in [k for k, frame in hub.active.items() if frame.active_until <= now]:
            del hub.active[shocker_id]
        commands = tick_commands(hub.active, self._exclusive, now)
        if not commands:
            return
        try:
            await self._bus.execute(
                SendLiveTick(hub_id=UUID(hub_id), commands=commands, context=self._context)
            )
        except DomainError as exc:
            # The hub was deleted between two ticks: its sessions are being told.
            log.debug("live tick for hub %s refused: %s", hub_id, exc)
        except Exception as exc:
            # The store is unreachable or stopping: the next tick tries again.
            log.warning("live tick for hub %s not sent: %s", hub_id, exc)
