"""This node's view of the other nodes' Pusher channels, and its reports to them.

What this node's sockets do to presence and occupancy (a user's first or last socket in a
channel, a channel's first or last subscriber, its subscription count) is reported as
`PusherNode` events through the command bus, in order, off the fan-out's path: the
registry only queues a change. Every node's feed applies the other nodes' events to a
`ClusterPresence`, and tells this node's sockets what changed cluster-wide (member_added
on a user's first node, member_removed on its last, subscription_count when a channel's
count changed, a watchlist's online/offline on a user's first/last signed-in node).
Subscription counts are reported at most once per `count_seconds` per channel, and only
when they changed; sign-ins only on a user's first and last socket on the node.

A node renews a lease every 5 s; a node whose lease is 20 s old is declared gone (by any
node: the command is idempotent), which removes its members everywhere. A node declared
gone by mistake (a long pause) sees its own `Gone` in the feed and reports everything it
holds again under a new id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.context import CommandContext
from domain.pusher.presence import (
    EndPusherNode,
    NodeEnded,
    PresenceChange,
    PusherNode,
    ReportPusherPresence,
)
from gateways.pusher import protocol
from gateways.pusher.cache import CachedEvent
from gateways.pusher.channel_kinds import ChannelKind, kind_of
from gateways.pusher.channels import ChannelRegistry
from infra.command_bus import CommandBus
from projections.pusher_presence_view import (
    ClusterPresence,
    CountChanged,
    MemberRemoved,
    NodeChange,
    UserOffline,
    UserOnline,
    node_change,
)
from projections.records import LogRecord

log = logging.getLogger(__name__)

_NODE = CommandContext(actor_id="pusher-gateway", actor_kind="system")


class Leases(Protocol):
    def renew(self, node_id: str) -> None: ...

    def others(self, node_id: str) -> dict[str, float]: ...

    def forget(self, node_id: str) -> None: ...


@dataclass(frozen=True)
class ClusterChannel:
    subscription_count: int
    user_count: int


@dataclass(frozen=True)
class LeaseTiming:
    renew_seconds: float = 5.0
    expires_seconds: float = 20.0
    # Embedded: this process is the only node, so any other lease is a previous run's.
    sole_node: bool = False


class PresenceCluster:
    def __init__(
        self,
        registry: ChannelRegistry,
        bus: CommandBus,
        leases: Leases,
        load_node: Callable[[str], PusherNode | None],
        timing: LeaseTiming,
        count_seconds: float = 1.0,
    ) -> None:
        self.node_id = uuid.uuid4().hex
        self._registry = registry
        self._bus = bus
        self._leases = leases
        self._load_node = load_node
        self._timing = timing
        self._count_seconds = count_seconds
        self._cluster = ClusterPresence()
        self._pending: list[PresenceChange] = []
        self._reporter: asyncio.Task[None] | None = None
        self._dirty: set[tuple[str, str]] = set()
        self._published: dict[tuple[str, str], int] = {}
        self._ready = False
        self._early: list[NodeChange] = []
        self._loops: list[asyncio.Task[None]] = []
        self._stopped = False
        registry.peers = self

    # Lifecycle

    async def start(self) -> None:
        """Before any socket: takes a lease (so that this node's events are never those of
        a node without one), then loads what the other live nodes hold."""
        await asyncio.to_thread(self._leases.renew, self.node_id)
        others = await asyncio.to_thread(self._leases.others, self.node_id)
        if self._timing.sole_node:
            for node_id in others:
                await self._declare_gone(node_id)
        else:
            for node_id in others:
                node = await asyncio.to_thread(self._load_node, node_id)
                if node is not None:
                    self._cluster.load(node_id, node)
            for app_id, user_id in self._cluster.online_users():
                self._registry.watchlists.came_online(app_id, user_id)
        self._ready = True
        early, self._early = self._early, []
        for change in early:
            self._apply(change)
        self._loops = [
            asyncio.create_task(self._renew_leases(), name="pusher-leases"),
            asyncio.create_task(self._count_loop(), name="pusher-counts"),
        ]

    async def stop(self) -> None:
        """The node's goodbye: its members leave every other node's view at once."""
        if self._stopped:
            return
        self._stopped = True
        for task in self._loops:
            task.cancel()
        self._pending.clear()
        if self._reporter is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._reporter), 5)
        try:
            await self._bus.execute(EndPusherNode(context=_NODE, node_id=self.node_id, gone=False))
            await asyncio.to_thread(self._leases.forget, self.node_id)
        except Exception:
            log.exception("could not say goodbye; the other nodes will find the lease expired")

    # What the registry tells the other nodes (NodePeers)

    def remote_members(self, app_id: str, channel: str) -> Mapping[str, Any]:
        return self._cluster.users(app_id, channel)

    def remote_subscriptions(self, app_id: str, channel: str) -> int:
        return self._cluster.subscription_count(app_id, channel)

    def online_elsewhere(self, app_id: str, user_id: str) -> bool:
        return self._cluster.is_online(app_id, user_id)

    def signed_in(self, app_id: str, user_id: str) -> None:
        self._report(PresenceChange("online", app_id, "", user_id))

    def signed_out(self, app_id: str, user_id: str) -> None:
        self._report(PresenceChange("offline", app_id, "", user_id))

    def joined(self, app_id: str, channel: str, user_id: str, user_info: Any) -> None:
        self._report(PresenceChange("joined", app_id, channel, user_id, user_info))

    def left(self, app_id: str, channel: str, user_id: str) -> None:
        self._report(PresenceChange("left", app_id, channel, user_id))

    def occupied(self, app_id: str, channel: str) -> None:
        self._published[(app_id, channel)] = 1
        self._report(PresenceChange("occupied", app_id, channel))

    def vacated(self, app_id: str, channel: str) -> None:
        self._published.pop((app_id, channel), None)
        self._dirty.discard((app_id, channel))
        self._report(PresenceChange("vacated", app_id, channel))

    def counted(self, app_id: str, channel: str) -> None:
        self._dirty.add((app_id, channel))

    def cache_missed(self, app_id: str, channel: str) -> None:
        self._report(PresenceChange("cache_miss", app_id, channel))

    def _report(self, change: PresenceChange) -> None:
        if self._stopped:
            return
        self._pending.append(change)
        if self._reporter is None or self._reporter.done():
            self._reporter = asyncio.get_running_loop().create_task(self._send_reports())

    async def _send_reports(self) -> None:
        """One command at a time, so that the log has this node's changes in their order;
        what queued meanwhile goes in the next one."""
        failures = 0
        while self._pending and not self._stopped:
            changes, self._pending = self._pending, []
            command = ReportPusherPresence(
                context=_NODE, node_id=self.node_id, changes=tuple(changes)
            )
            try:
                await self._bus.execute(command)
                failures = 0
            except NodeEnded:
                self._rejoin()
            except Exception:
                failures += 1
                log.exception("could not report this node's Pusher presence; retrying")
                self._pending = changes + self._pending
                await asyncio.sleep(min(5.0, 0.2 * 2**failures))

    def _rejoin(self) -> None:
        """Declared gone while alive: everything this node holds, again, under a new id."""
        log.warning("this node %s was declared gone; reporting its channels again", self.node_id)
        self.node_id = uuid.uuid4().hex
        self._published.clear()
        changes: list[PresenceChange] = [
            PresenceChange("online", app_id, "", user_id)
            for app_id, user_id in self._registry.signed_in_users()
        ]
        for app_id, channel in self._registry.held_channels():
            changes.append(PresenceChange("occupied", app_id, channel.name))
            self._published[(app_id, channel.name)] = 1
            self._dirty.add((app_id, channel.name))
            for user_id, member in channel.members.items():
                changes.append(
                    PresenceChange("joined", app_id, channel.name, user_id, member.user_info)
                )
        self._pending = changes
        self._loops.append(asyncio.get_running_loop().create_task(self._renew_now()))
        if changes and (self._reporter is None or self._reporter.done()):
            self._reporter = asyncio.get_running_loop().create_task(self._send_reports())

    async def _renew_now(self) -> None:
        try:
            await asyncio.to_thread(self._leases.renew, self.node_id)
        except Exception:
            log.exception("could not take a lease for this node")

    async def _count_loop(self) -> None:
        while True:
            await asyncio.sleep(self._count_seconds)
            dirty, self._dirty = self._dirty, set()
            for app_id, channel in dirty:
                count = self._registry.subscription_count(app_id, channel)
                if count > 0 and self._published.get((app_id, channel)) != count:
                    self._published[(app_id, channel)] = count
                    self._report(PresenceChange("counted", app_id, channel, count=count))

    async def _renew_leases(self) -> None:
        timing = self._timing
        while True:
            await asyncio.sleep(timing.renew_seconds)
            try:
                await asyncio.to_thread(self._leases.renew, self.node_id)
                others = await asyncio.to_thread(self._leases.others, self.node_id)
            except Exception:
                log.exception("could not renew this node's Pusher lease")
                continue
            for node_id, age in others.items():
                if age > timing.expires_seconds:
                    await self._declare_gone(node_id)

    async def _declare_gone(self, node_id: str) -> None:
        log.warning("Pusher node %s stopped renewing its lease: removing its members", node_id)
        try:
            await self._bus.execute(EndPusherNode(context=_NODE, node_id=node_id, gone=True))
            await asyncio.to_thread(self._leases.forget, node_id)
        except Exception:
            log.exception("could not declare node %s gone; will retry", node_id)

    # The other nodes' changes, from the log feed

    def __call__(self, records: Sequence[LogRecord]) -> None:
        for record in records:
            if not record.type.startswith("PusherNode."):
                continue
            change = node_change(record)
            if change is None:
                continue
            if change.node_id == self.node_id:
                if change.kind == "ended" and not self._stopped:
                    self._rejoin()
                continue
            if not self._ready:
                self._early.append(change)
                continue
            self._apply(change)

    def _apply(self, change: NodeChange) -> None:
        registry = self._registry
        app_id, channel = change.app_id, change.channel
        if change.kind in ("joined", "left"):
            was = registry.has_member(app_id, channel, change.user_id)
            self._cluster.apply(change)
            now = registry.has_member(app_id, channel, change.user_id)
            if not was and now:
                self._tell_added(app_id, channel, change.user_id, change.user_info)
            elif was and not now:
                self._tell_removed(app_id, channel, change.user_id)
            return
        for transition in self._cluster.apply(change):
            if isinstance(transition, MemberRemoved) and not registry.has_member(
                transition.app_id, transition.channel, transition.user_id
            ):
                self._tell_removed(transition.app_id, transition.channel, transition.user_id)
            elif isinstance(transition, CountChanged):
                registry.remote_count_changed(transition.app_id, transition.channel)
            elif isinstance(transition, UserOnline):
                registry.watchlists.came_online(transition.app_id, transition.user_id)
            elif isinstance(transition, UserOffline) and not registry.is_signed_in(
                transition.app_id, transition.user_id
            ):
                registry.watchlists.went_offline(transition.app_id, transition.user_id)

    def _tell_added(self, app_id: str, channel: str, user_id: str, user_info: Any) -> None:
        data = protocol.json_string({"user_id": user_id, "user_info": user_info})
        self._registry.publish(
            app_id, channel, protocol.event("pusher_internal:member_added", data, channel)
        )

    def _tell_removed(self, app_id: str, channel: str, user_id: str) -> None:
        data = protocol.json_string({"user_id": user_id})
        self._registry.publish(
            app_id, channel, protocol.event("pusher_internal:member_removed", data, channel)
        )

    # What the HTTP API asks (ChannelQueries): every node's channels

    def occupied_channels(self, app_id: str, prefix: str = "") -> dict[str, ClusterChannel]:
        counts = {
            name: state.subscription_count
            for name, state in self._registry.occupied_channels(app_id, prefix).items()
        }
        for name, remote in self._cluster.channels(app_id).items():
            if name.startswith(prefix):
                counts[name] = counts.get(name, 0) + remote
        return {name: self._channel(app_id, name, count) for name, count in counts.items()}

    def subscription_count(self, app_id: str, channel: str) -> int:
        return self._registry.subscription_count(
            app_id, channel
        ) + self._cluster.subscription_count(app_id, channel)

    def presence_user_ids(self, app_id: str, channel: str) -> list[str]:
        return list(self._registry.presence_members(app_id, channel))

    async def cached_event(self, app_id: str, channel: str) -> CachedEvent | None:
        # The log keeps it for every node: the store answers what this node did not see.
        return await self._registry.cache.look_up(app_id, channel)

    def _channel(self, app_id: str, name: str, count: int) -> ClusterChannel:
        users = (
            len(self._registry.presence_members(app_id, name))
            if kind_of(name) is ChannelKind.PRESENCE
            else 0
        )
        return ClusterChannel(count, users)
