"""Hubs whose gateway node is gone are recorded disconnected, so that they do not stay online.

A node that crashes never records its hubs' goodbyes. Every serve node holds a lease it
renews every few seconds (infra/pusher/node_leases.py, kept by the presence cluster); a hub
whose session is on a node with no fresh lease is ended by whichever node looks first (the
command changes nothing when the session is no longer the hub's, so several may look). A
single embedded process finds at start the sessions of the process it replaced. Where this
node itself was declared gone by mistake (it paused too long and took a new id), its own hubs
are asked to reconnect, since their sessions no longer count.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from domain.context import CommandContext
from domain.errors import ViewsBehind
from domain.openshock.hub_link_commands import RecordHubDisconnected
from gateways.openshock.hub_connections import HubConnections
from infra.command_bus import CommandBus
from infra.store.view_reader import ViewReader
from projections.openshock_hub_link_view import held_sessions

log = logging.getLogger(__name__)

_GATEWAY = CommandContext(actor_id="openshock-hub-gateway", actor_kind="system")
_VIEWS = ("openshock_hub_links",)


class Leases(Protocol):
    def others(self, node_id: str) -> dict[str, float]: ...


class StaleHubSessions:
    def __init__(
        self,
        bus: CommandBus,
        views: ViewReader,
        leases: Leases,
        connections: HubConnections,
        node_id: Callable[[], str],
        expires_seconds: float,
        every_seconds: float,
    ) -> None:
        self._bus = bus
        self._views = views
        self._leases = leases
        self._connections = connections
        self._node_id = node_id
        self._expires_seconds = expires_seconds
        self._every_seconds = every_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="openshock-stale-hubs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except ViewsBehind as behind:
                # An outage of the log (Kafka down): expected, and said once a sweep.
                log.warning("could not look for hubs of gone nodes (%s); will look again", behind)
            except Exception:
                log.exception("could not look for hubs of gone nodes; will look again")
            await asyncio.sleep(self._every_seconds)

    async def sweep(self) -> int:
        """Records the disconnection of every hub held by a node without a fresh lease."""
        mine = self._node_id()
        ages = await asyncio.to_thread(self._leases.others, mine)
        alive = {node for node, age in ages.items() if age <= self._expires_seconds} | {mine}
        await self._views.fresh_views(*_VIEWS)
        held = await self._views.query(held_sessions)
        ended = 0
        for hub_id, session_id, node_id in held:
            if node_id in alive:
                continue
            await self._bus.execute(
                RecordHubDisconnected(
                    hub_id=UUID(hub_id),
                    session_id=session_id,
                    reason=f"its gateway node {node_id} is gone",
                    context=_GATEWAY,
                )
            )
            self._connections.reconnect(hub_id, session_id)
            ended += 1
        if ended:
            log.info("recorded %d hub(s) of gone gateway nodes as disconnected", ended)
        return ended
