"""Cluster-wide presence as the log tells it: each node's members, occupied channels and
subscription counts, from its `PusherNode` events.

`node_change` reads one record; `ClusterPresence` keeps what every other node holds and
says, for each change, what it means for the whole cluster (a user's first or last node,
a channel's first or last node). The gateways keep one in memory for their sockets
(gateways/pusher/presence_cluster.py); the webhook projection keeps the same facts in its
tables (pusher_webhooks.py), so that occupied/vacated are decided once, in log order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from domain.pusher.presence import PusherNode
from projections.records import LogRecord

NodeChangeKind = Literal[
    "started",
    "joined",
    "left",
    "occupied",
    "vacated",
    "counted",
    "cache_miss",
    "online",
    "offline",
    "ended",
]

_KINDS: dict[str, NodeChangeKind] = {
    PusherNode.Started.__qualname__: "started",
    PusherNode.MemberJoined.__qualname__: "joined",
    PusherNode.MemberLeft.__qualname__: "left",
    PusherNode.ChannelOccupied.__qualname__: "occupied",
    PusherNode.ChannelVacated.__qualname__: "vacated",
    PusherNode.SubscriptionsCounted.__qualname__: "counted",
    PusherNode.CacheMissed.__qualname__: "cache_miss",
    PusherNode.UserSignedIn.__qualname__: "online",
    PusherNode.UserSignedOut.__qualname__: "offline",
    PusherNode.Stopped.__qualname__: "ended",
    PusherNode.Gone.__qualname__: "ended",
}


@dataclass(frozen=True)
class NodeChange:
    node_id: str
    kind: NodeChangeKind
    # The node aggregate's version: a reader that loaded the node skips what it has.
    version: int
    app_id: str = ""
    channel: str = ""
    user_id: str = ""
    user_info: Any = None
    count: int = 0


def node_change(record: LogRecord) -> NodeChange | None:
    # By type name: the projection workers' records carry no event object.
    kind = _KINDS.get(record.type)
    if kind is None:
        return None
    p = record.payload
    return NodeChange(
        node_id=str(p["node_id"]),
        kind=kind,
        version=record.version,
        app_id=str(p.get("app_id", "")),
        channel=str(p.get("channel", "")),
        user_id=str(p.get("user_id", "")),
        user_info=p.get("user_info"),
        count=int(p.get("count", 0)),
    )


@dataclass(frozen=True)
class MemberAdded:
    app_id: str
    channel: str
    user_id: str
    user_info: Any


@dataclass(frozen=True)
class MemberRemoved:
    app_id: str
    channel: str
    user_id: str


@dataclass(frozen=True)
class ChannelOccupied:
    app_id: str
    channel: str


@dataclass(frozen=True)
class ChannelVacated:
    app_id: str
    channel: str


@dataclass(frozen=True)
class CountChanged:
    app_id: str
    channel: str
    subscription_count: int


@dataclass(frozen=True)
class UserOnline:
    """The user's first signed-in socket on any of these nodes."""

    app_id: str
    user_id: str


@dataclass(frozen=True)
class UserOffline:
    app_id: str
    user_id: str


Transition = (
    MemberAdded
    | MemberRemoved
    | ChannelOccupied
    | ChannelVacated
    | CountChanged
    | UserOnline
    | UserOffline
)

Key = tuple[str, str]


@dataclass
class NodeState:
    version: int = 0
    ended: bool = False
    # (app id, channel) -> user id -> user_info
    members: dict[Key, dict[str, Any]] = field(default_factory=dict)
    # (app id, channel) -> subscriptions (occupied channels only, at least 1)
    subscriptions: dict[Key, int] = field(default_factory=dict)
    # (app id, user id) of the users signed in on the node
    users: set[Key] = field(default_factory=set)


class ClusterPresence:
    """What a set of nodes holds, and the cluster-wide transitions each change makes."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeState] = {}
        # (app id, channel) -> user id -> node id -> user_info
        self.members: dict[Key, dict[str, dict[str, Any]]] = {}
        # (app id, channel) -> node id -> subscriptions
        self.subscriptions: dict[Key, dict[str, int]] = {}
        # (app id, user id) -> the nodes it is signed in on
        self.online: dict[Key, set[str]] = {}

    def load(self, node_id: str, node: PusherNode) -> None:
        """A node as its aggregate stood at `node.version`; later changes come from the log."""
        state = self.nodes.setdefault(node_id, NodeState())
        if node.version <= state.version:
            return
        self.forget(node_id)
        state = self.nodes[node_id] = NodeState(node.version, node.ended)
        for app_id, channels in node.members.items():
            for channel, users in channels.items():
                for user_id, info in users.items():
                    self._join(node_id, state, (app_id, channel), user_id, info)
        for app_id, counts in node.channels.items():
            for channel, count in counts.items():
                self._count(node_id, state, (app_id, channel), max(1, count))
        # Snapshots of nodes from before sign-ins were reported have no `users`.
        for app_id, users in getattr(node, "users", {}).items():
            for user_id in users:
                self._sign_in(node_id, state, (app_id, user_id))

    def apply(self, change: NodeChange) -> list[Transition]:
        state = self.nodes.setdefault(change.node_id, NodeState())
        if change.version <= state.version or state.ended:
            return []
        state.version = change.version
        key = (change.app_id, change.channel)
        kind = change.kind
        if kind == "joined":
            if self._join(change.node_id, state, key, change.user_id, change.user_info):
                return [MemberAdded(*key, change.user_id, change.user_info)]
        elif kind == "left":
            if self._leave(change.node_id, state, key, change.user_id):
                return [MemberRemoved(*key, change.user_id)]
        elif kind == "occupied":
            return self._count(change.node_id, state, key, 1)
        elif kind == "vacated":
            return self._count(change.node_id, state, key, 0)
        elif kind == "counted":
            if key in state.subscriptions:
                return self._count(change.node_id, state, key, max(1, change.count))
        elif kind == "online":
            if self._sign_in(change.node_id, state, (change.app_id, change.user_id)):
                return [UserOnline(change.app_id, change.user_id)]
        elif kind == "offline":
            if self._sign_out(change.node_id, state, (change.app_id, change.user_id)):
                return [UserOffline(change.app_id, change.user_id)]
        elif kind == "ended":
            transitions = self.forget(change.node_id)
            self.nodes[change.node_id].ended = True
            return transitions
        return []

    def forget(self, node_id: str) -> list[Transition]:
        """Removes all the node held; what the cluster lost by it."""
        state = self.nodes.get(node_id)
        if state is None:
            return []
        transitions: list[Transition] = []
        for key, users in list(state.members.items()):
            for user_id in list(users):
                if self._leave(node_id, state, key, user_id):
                    transitions.append(MemberRemoved(*key, user_id))
        for key in list(state.subscriptions):
            transitions.extend(self._count(node_id, state, key, 0))
        for key in list(state.users):
            if self._sign_out(node_id, state, key):
                transitions.append(UserOffline(*key))
        return transitions

    def users(self, app_id: str, channel: str) -> dict[str, Any]:
        """user id -> user_info of the channel's members on these nodes."""
        found = self.members.get((app_id, channel), {})
        return {user_id: next(iter(nodes.values())) for user_id, nodes in found.items()}

    def subscription_count(self, app_id: str, channel: str) -> int:
        return sum(self.subscriptions.get((app_id, channel), {}).values())

    def is_online(self, app_id: str, user_id: str) -> bool:
        return (app_id, user_id) in self.online

    def online_users(self) -> list[Key]:
        """(app id, user id) of every user signed in on these nodes."""
        return list(self.online)

    def channels(self, app_id: str) -> dict[str, int]:
        """The app's occupied channels on these nodes -> their subscriptions."""
        return {
            channel: sum(nodes.values())
            for (app, channel), nodes in self.subscriptions.items()
            if app == app_id
        }

    def _join(self, node_id: str, state: NodeState, key: Key, user_id: str, info: Any) -> bool:
        state.members.setdefault(key, {})[user_id] = info
        nodes = self.members.setdefault(key, {}).setdefault(user_id, {})
        first = not nodes
        nodes[node_id] = info
        return first

    def _leave(self, node_id: str, state: NodeState, key: Key, user_id: str) -> bool:
        users = state.members.get(key)
        if users is not None:
            users.pop(user_id, None)
            if not users:
                del state.members[key]
        channel = self.members.get(key)
        if channel is None or user_id not in channel:
            return False
        channel[user_id].pop(node_id, None)
        if channel[user_id]:
            return False
        del channel[user_id]
        if not channel:
            del self.members[key]
        return True

    def _sign_in(self, node_id: str, state: NodeState, key: Key) -> bool:
        state.users.add(key)
        nodes = self.online.setdefault(key, set())
        first = not nodes
        nodes.add(node_id)
        return first

    def _sign_out(self, node_id: str, state: NodeState, key: Key) -> bool:
        state.users.discard(key)
        nodes = self.online.get(key)
        if nodes is None or node_id not in nodes:
            return False
        nodes.discard(node_id)
        if nodes:
            return False
        del self.online[key]
        return True

    def _count(self, node_id: str, state: NodeState, key: Key, count: int) -> list[Transition]:
        nodes = self.subscriptions.setdefault(key, {})
        before = sum(nodes.values())
        if count > 0:
            state.subscriptions[key] = nodes[node_id] = count
        else:
            state.subscriptions.pop(key, None)
            nodes.pop(node_id, None)
        after = sum(nodes.values())
        if not nodes:
            del self.subscriptions[key]
        transitions: list[Transition] = []
        if before == 0 and after > 0:
            transitions.append(ChannelOccupied(*key))
        if after != before:
            transitions.append(CountChanged(*key, after))
        if before > 0 and after == 0:
            transitions.append(ChannelVacated(*key))
        return transitions
