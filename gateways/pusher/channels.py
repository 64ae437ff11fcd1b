"""This node's channels: who is subscribed, presence members, and the sockets of each user.

The registry is the gateway's only shared state and is used on the event loop alone. It
also answers the HTTP API's questions about channels (occupied channels, subscription
counts, presence users) for the sockets of this node.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateways.pusher import protocol
from gateways.pusher.cache import CachedEvent, ChannelCache
from gateways.pusher.channel_kinds import ChannelKind, kind_of
from gateways.pusher.connection import PusherConnection
from gateways.pusher.peers import NodePeers, NoPeers
from gateways.pusher.watchlists import Watchlists

# Pusher's rule for subscription_count events: at once on a channel of at most this many
# subscribers, at most every COUNT_INTERVAL_SECONDS on a bigger one.
SMALL_CHANNEL = 100
COUNT_INTERVAL_SECONDS = 5.0


@dataclass
class Member:
    user_info: Any
    # This user's sockets in the channel: member_removed when the last one leaves.
    sockets: int = 0


class Channel:
    __slots__ = ("count_sent_at", "count_timer", "kind", "members", "name", "subscribers")

    def __init__(self, name: str) -> None:
        self.name = name
        self.kind = kind_of(name)
        self.subscribers: dict[str, PusherConnection] = {}
        self.members: dict[str, Member] = {}
        # When subscription_count was last sent, and the send waiting on a big channel.
        self.count_sent_at = 0.0
        self.count_timer: asyncio.TimerHandle | None = None

    def presence_data(self) -> str:
        ids = list(self.members)
        hash_ = {user_id: member.user_info for user_id, member in self.members.items()}
        return protocol.json_string({"presence": {"ids": ids, "hash": hash_, "count": len(ids)}})


@dataclass(frozen=True)
class ChannelState:
    subscription_count: int
    # Presence channels only; 0 elsewhere.
    user_count: int


class ChannelRegistry:
    def __init__(self, cache: ChannelCache | None = None) -> None:
        # The last event of each cache channel (see cache.py).
        self.cache = cache if cache is not None else ChannelCache()
        # Who watches whom; told here when a user's first socket signs in and last leaves.
        self.watchlists = Watchlists()
        self._channels: dict[str, dict[str, Channel]] = {}
        self._users: dict[str, dict[str, set[PusherConnection]]] = {}
        self._connections: dict[str, set[PusherConnection]] = {}
        # The other nodes' members, and what this node tells them (presence_cluster.py).
        self.peers: NodePeers = NoPeers()

    # Connections

    def connection_count(self, app_id: str) -> int:
        return len(self._connections.get(app_id, ()))

    def connect(self, connection: PusherConnection) -> None:
        self._connections.setdefault(connection.app.app_id, set()).add(connection)

    def disconnect(self, connection: PusherConnection) -> None:
        app_id = connection.app.app_id
        for channel in list(connection.subscriptions):
            self.unsubscribe(connection, channel)
        if connection.user_id is not None:
            self._forget_user(app_id, connection.user_id, connection)
        self.watchlists.unwatch(connection)
        connections = self._connections.get(app_id)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._connections[app_id]

    def sign_in(self, connection: PusherConnection, user_id: str) -> None:
        app_id = connection.app.app_id
        if connection.user_id is not None and connection.user_id != user_id:
            self._forget_user(app_id, connection.user_id, connection)
        connection.user_id = user_id
        sockets = self._users.setdefault(app_id, {}).setdefault(user_id, set())
        sockets.add(connection)
        if len(sockets) == 1:
            self.peers.signed_in(app_id, user_id)
            self.watchlists.came_online(app_id, user_id)

    def is_signed_in(self, app_id: str, user_id: str) -> bool:
        """The user has a signed-in socket on this node."""
        return user_id in self._users.get(app_id, {})

    def signed_in_users(self) -> list[tuple[str, str]]:
        """(app id, user id) of every user signed in on this node."""
        return [(a, u) for a, users in self._users.items() for u in users]

    def user_connections(self, app_id: str, user_id: str) -> list[PusherConnection]:
        """The sockets signed in as the user, and those in a presence channel as the user."""
        found = set(self._users.get(app_id, {}).get(user_id, ()))
        for channel in self._channels.get(app_id, {}).values():
            if user_id in channel.members:
                found.update(
                    c
                    for c in channel.subscribers.values()
                    if c.subscriptions.get(channel.name) == user_id
                )
        return list(found)

    def _forget_user(self, app_id: str, user_id: str, connection: PusherConnection) -> None:
        users = self._users.get(app_id)
        if users is None:
            return
        sockets = users.get(user_id)
        if sockets is not None:
            sockets.discard(connection)
            if not sockets:
                del users[user_id]
                self.peers.signed_out(app_id, user_id)
                if not self.peers.online_elsewhere(app_id, user_id):
                    self.watchlists.went_offline(app_id, user_id)
        if not users:
            del self._users[app_id]

    # Subscriptions

    def member_count(self, app_id: str, channel: str) -> int:
        """Distinct users in the channel across every node."""
        return len(self.presence_members(app_id, channel))

    def has_member(self, app_id: str, channel: str, user_id: str) -> bool:
        found = self._channels.get(app_id, {}).get(channel)
        return (found is not None and user_id in found.members) or user_id in (
            self.peers.remote_members(app_id, channel)
        )

    def presence_members(self, app_id: str, channel: str) -> dict[str, Any]:
        """user id -> user_info of every member on any node (this node's info first)."""
        members = dict(self.peers.remote_members(app_id, channel))
        found = self._channels.get(app_id, {}).get(channel)
        if found is not None:
            members.update((user_id, m.user_info) for user_id, m in found.members.items())
        return members

    def presence_data(self, app_id: str, channel: str) -> str:
        """subscription_succeeded's data on a presence channel: members of every node."""
        members = self.presence_members(app_id, channel)
        return protocol.json_string(
            {"presence": {"ids": list(members), "hash": members, "count": len(members)}}
        )

    def held_channels(self) -> list[tuple[str, Channel]]:
        """(app id, channel) of every channel with a subscriber on this node."""
        return [(a, c) for a, channels in self._channels.items() for c in channels.values()]

    def subscribe(
        self,
        connection: PusherConnection,
        name: str,
        member: tuple[str, Any] | None = None,
    ) -> Channel:
        """Adds the socket (as `member` (user id, user info) on presence channels) and tells
        the other members about a user's first socket; the caller answers the subscriber."""
        channels = self._channels.setdefault(connection.app.app_id, {})
        channel = channels.get(name)
        if channel is None:
            channel = channels[name] = Channel(name)
            self.peers.occupied(connection.app.app_id, name)
        channel.subscribers[connection.socket_id] = connection
        self.peers.counted(connection.app.app_id, name)
        connection.subscriptions[name] = member[0] if member else None
        if member is not None:
            user_id, user_info = member
            joined = channel.members.get(user_id)
            if joined is None:
                joined = channel.members[user_id] = Member(user_info)
                self.peers.joined(connection.app.app_id, name, user_id, user_info)
            if joined.sockets == 0 and user_id not in self.peers.remote_members(
                connection.app.app_id, name
            ):
                # The user's first socket on any node; other nodes' sockets hear of it from
                # their feed (presence_cluster.py).
                added = protocol.event(
                    "pusher_internal:member_added",
                    protocol.json_string({"user_id": user_id, "user_info": user_info}),
                    name,
                )
                self._send(channel.subscribers.values(), added, connection.socket_id)
            joined.sockets += 1
        return channel

    def subscribe_again(self, connection: PusherConnection, name: str) -> Channel:
        """A repeated subscribe changes nothing; the caller answers it as the first."""
        return self._channels[connection.app.app_id][name]

    def unsubscribe(self, connection: PusherConnection, name: str) -> None:
        if name not in connection.subscriptions:
            return
        user_id = connection.subscriptions.pop(name)
        app_id = connection.app.app_id
        channels = self._channels.get(app_id, {})
        channel = channels.get(name)
        if channel is None:
            return
        channel.subscribers.pop(connection.socket_id, None)
        self.peers.counted(app_id, name)
        if user_id is not None and (member := channel.members.get(user_id)) is not None:
            member.sockets -= 1
            if member.sockets <= 0:
                del channel.members[user_id]
                self.peers.left(app_id, name, user_id)
                if user_id not in self.peers.remote_members(app_id, name):
                    removed = protocol.event(
                        "pusher_internal:member_removed",
                        protocol.json_string({"user_id": user_id}),
                        name,
                    )
                    self._send(channel.subscribers.values(), removed, None)
        if not channel.subscribers:
            self.peers.vacated(app_id, name)
            if channel.count_timer is not None:
                channel.count_timer.cancel()
            del channels[name]
            if not channels:
                del self._channels[app_id]
        elif connection.app.limits.subscription_count_events:
            self.count_changed(app_id, name)

    def count_changed(self, app_id: str, name: str) -> None:
        """Sends pusher_internal:subscription_count (every node's subscriptions) to the
        channel's subscribers here (the app asked for it; never on presence channels,
        whose members say more)."""
        channel = self._channels.get(app_id, {}).get(name)
        if channel is None or channel.kind is ChannelKind.PRESENCE or channel.count_timer:
            return
        wait = channel.count_sent_at + COUNT_INTERVAL_SECONDS - time.monotonic()
        if self._cluster_count(app_id, channel) <= SMALL_CHANNEL or wait <= 0:
            self._send_count(app_id, channel)
        else:
            channel.count_timer = asyncio.get_running_loop().call_later(
                wait, self._send_count, app_id, channel
            )

    def remote_count_changed(self, app_id: str, name: str) -> None:
        """Another node's subscriptions to the channel changed (from the feed)."""
        channel = self._channels.get(app_id, {}).get(name)
        if channel is None or not channel.subscribers:
            return
        # The app's limits as this node's sockets last read them.
        any_subscriber = next(iter(channel.subscribers.values()))
        if any_subscriber.app.limits.subscription_count_events:
            self.count_changed(app_id, name)

    def _cluster_count(self, app_id: str, channel: Channel) -> int:
        return len(channel.subscribers) + self.peers.remote_subscriptions(app_id, channel.name)

    def _send_count(self, app_id: str, channel: Channel) -> None:
        channel.count_timer = None
        channel.count_sent_at = time.monotonic()
        count = protocol.event(
            "pusher_internal:subscription_count",
            protocol.json_string({"subscription_count": self._cluster_count(app_id, channel)}),
            channel.name,
        )
        self._send(channel.subscribers.values(), count, None)

    # Delivery

    def publish(self, app_id: str, channel: str, text: str, excluded: str | None = None) -> int:
        """Queues an encoded frame to every subscriber but `excluded`; how many got it."""
        found = self._channels.get(app_id, {}).get(channel)
        if found is None:
            return 0
        return self._send(found.subscribers.values(), text, excluded)

    @staticmethod
    def _send(to: Iterable[PusherConnection], text: str, excluded: str | None) -> int:
        sent = 0
        for connection in list(to):
            if connection.socket_id != excluded:
                connection.deliver(text)
                sent += 1
        return sent

    def app_connections(self, app_id: str) -> list[PusherConnection]:
        return list(self._connections.get(app_id, ()))

    def all_connections(self) -> list[PusherConnection]:
        return [c for connections in self._connections.values() for c in connections]

    # What the HTTP API asks about this node's channels

    def occupied_channels(self, app_id: str, prefix: str = "") -> dict[str, ChannelState]:
        return {
            name: self._state(channel)
            for name, channel in self._channels.get(app_id, {}).items()
            if name.startswith(prefix) and channel.subscribers
        }

    def channel_state(self, app_id: str, channel: str) -> ChannelState | None:
        found = self._channels.get(app_id, {}).get(channel)
        return self._state(found) if found is not None and found.subscribers else None

    def subscription_count(self, app_id: str, channel: str) -> int:
        found = self._channels.get(app_id, {}).get(channel)
        return len(found.subscribers) if found is not None else 0

    def cached_event(self, app_id: str, channel: str) -> CachedEvent | None:
        """A cache channel's last event (its `data`, `ttl_seconds`), or None."""
        return self.cache.last_event(app_id, channel)

    def presence_user_ids(self, app_id: str, channel: str) -> list[str]:
        found = self._channels.get(app_id, {}).get(channel)
        return list(found.members) if found is not None else []

    @staticmethod
    def _state(channel: Channel) -> ChannelState:
        users = len(channel.members) if channel.kind is ChannelKind.PRESENCE else 0
        return ChannelState(len(channel.subscribers), users)
