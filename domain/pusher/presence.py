"""What one serve node's Pusher sockets hold, told to the whole cluster through the log.

Each run of a node's gateway is a `PusherNode` aggregate of its own (a fresh id per run):
only that node appends to it, so its reports never contend with anyone's, and a reader
that loaded it at some version knows exactly which later records of the feed are new.
Its events are what cluster-wide presence, channel occupancy and the webhooks about them
are made of: a user is a member of a channel while any live node holds it there, and a
channel is occupied while any live node has a subscriber. A node ends by saying goodbye
(`Stopped`) or by another node finding its lease expired (`Gone`); either removes all it
held.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.commands import Command, UnitOfWork
from domain.errors import DomainError

Metadata = dict[str, Any]

ChangeKind = Literal[
    "joined", "left", "occupied", "vacated", "counted", "cache_miss", "online", "offline"
]


class PusherNode(Aggregate):
    Started: ClassVar[type[Aggregate.Created]]
    MemberJoined: ClassVar[type[Aggregate.Event]]
    MemberLeft: ClassVar[type[Aggregate.Event]]
    ChannelOccupied: ClassVar[type[Aggregate.Event]]
    ChannelVacated: ClassVar[type[Aggregate.Event]]
    SubscriptionsCounted: ClassVar[type[Aggregate.Event]]
    CacheMissed: ClassVar[type[Aggregate.Event]]
    UserSignedIn: ClassVar[type[Aggregate.Event]]
    UserSignedOut: ClassVar[type[Aggregate.Event]]
    Stopped: ClassVar[type[Aggregate.Event]]
    Gone: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(node_id: str, **_: Any) -> UUID:
        return pusher_node_id(node_id)

    @event("Started")
    def __init__(self, node_id: str, meta: Metadata) -> None:
        self.node_id = node_id
        # app id -> channel -> user id -> user_info: the presence members this node holds.
        self.members: dict[str, dict[str, dict[str, Any]]] = {}
        # app id -> channel -> subscriptions last counted (occupied channels only).
        self.channels: dict[str, dict[str, int]] = {}
        # app id -> user id -> True: the users signed in on this node (watchlists' online).
        self.users: dict[str, dict[str, bool]] = {}
        self.ended = False

    @event("MemberJoined")
    def member_joined(
        self, node_id: str, app_id: str, channel: str, user_id: str, user_info: Any, meta: Metadata
    ) -> None:
        self.members.setdefault(app_id, {}).setdefault(channel, {})[user_id] = user_info

    @event("MemberLeft")
    def member_left(
        self, node_id: str, app_id: str, channel: str, user_id: str, meta: Metadata
    ) -> None:
        channels = self.members.get(app_id, {})
        channels.get(channel, {}).pop(user_id, None)
        if not channels.get(channel, True):
            del channels[channel]
        if not channels:
            self.members.pop(app_id, None)

    @event("ChannelOccupied")
    def channel_occupied(self, node_id: str, app_id: str, channel: str, meta: Metadata) -> None:
        self.channels.setdefault(app_id, {})[channel] = 1

    @event("ChannelVacated")
    def channel_vacated(self, node_id: str, app_id: str, channel: str, meta: Metadata) -> None:
        channels = self.channels.get(app_id, {})
        channels.pop(channel, None)
        if not channels:
            self.channels.pop(app_id, None)

    @event("SubscriptionsCounted")
    def subscriptions_counted(
        self, node_id: str, app_id: str, channel: str, count: int, meta: Metadata
    ) -> None:
        if channel in self.channels.get(app_id, {}):
            self.channels[app_id][channel] = count

    @event("CacheMissed")
    def cache_missed(self, node_id: str, app_id: str, channel: str, meta: Metadata) -> None:
        # Nothing to keep: a cache_miss webhook is made of it.
        pass

    @event("UserSignedIn")
    def user_signed_in(self, node_id: str, app_id: str, user_id: str, meta: Metadata) -> None:
        self.users.setdefault(app_id, {})[user_id] = True

    @event("UserSignedOut")
    def user_signed_out(self, node_id: str, app_id: str, user_id: str, meta: Metadata) -> None:
        users = self.users.get(app_id, {})
        users.pop(user_id, None)
        if not users:
            self.users.pop(app_id, None)

    @event("Stopped")
    def stopped(self, node_id: str, meta: Metadata) -> None:
        self._forget_everything()

    @event("Gone")
    def gone(self, node_id: str, meta: Metadata) -> None:
        self._forget_everything()

    def _forget_everything(self) -> None:
        self.members = {}
        self.channels = {}
        self.users = {}
        self.ended = True


def pusher_node_id(node_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:pusher-node:{node_id}")


@dataclass(frozen=True)
class PresenceChange:
    """One change of what a node holds, in the order its sockets made them ("online" and
    "offline": a user's first and last signed-in socket on the node; no channel)."""

    kind: ChangeKind
    app_id: str
    channel: str
    user_id: str | None = None
    user_info: Any = None
    # "counted": the node's subscriptions to the channel.
    count: int = 0


@dataclass(frozen=True, kw_only=True)
class ReportPusherPresence(Command):
    node_id: str
    changes: tuple[PresenceChange, ...]


@dataclass(frozen=True, kw_only=True)
class EndPusherNode(Command):
    """`gone`: declared by another node whose lease check found this one dead; otherwise
    the node's own goodbye."""

    node_id: str
    gone: bool


class NodeEnded(DomainError):
    """The node was declared gone: it must report again under a new id."""


def report_pusher_presence(command: ReportPusherPresence, uow: UnitOfWork) -> None:
    node = uow.get(PusherNode, pusher_node_id(command.node_id))
    meta = command.context.as_metadata()
    if node is None:
        node = PusherNode(node_id=command.node_id, meta=meta)
        uow.add(node)
    elif node.ended:
        raise NodeEnded(f"Pusher node {command.node_id} has ended")
    node_id = command.node_id
    for change in command.changes:
        app_id, channel = change.app_id, change.channel
        if change.kind == "joined" and change.user_id is not None:
            node.member_joined(node_id, app_id, channel, change.user_id, change.user_info, meta)
        elif change.kind == "left" and change.user_id is not None:
            node.member_left(node_id, app_id, channel, change.user_id, meta)
        elif change.kind == "occupied":
            node.channel_occupied(node_id, app_id, channel, meta)
        elif change.kind == "vacated":
            node.channel_vacated(node_id, app_id, channel, meta)
        elif change.kind == "counted":
            node.subscriptions_counted(node_id, app_id, channel, max(0, change.count), meta)
        elif change.kind == "cache_miss":
            node.cache_missed(node_id, app_id, channel, meta)
        elif change.kind == "online" and change.user_id is not None:
            node.user_signed_in(node_id, app_id, change.user_id, meta)
        elif change.kind == "offline" and change.user_id is not None:
            node.user_signed_out(node_id, app_id, change.user_id, meta)
        else:
            raise DomainError(f"not a presence change: {change.kind}")


def end_pusher_node(command: EndPusherNode, uow: UnitOfWork) -> None:
    """Idempotent: several nodes may find the same lease expired at once."""
    node = uow.get(PusherNode, pusher_node_id(command.node_id))
    if node is None or node.ended:
        return
    meta = command.context.as_metadata()
    if command.gone:
        node.gone(command.node_id, meta)
    else:
        node.stopped(command.node_id, meta)


HANDLERS = {ReportPusherPresence: report_pusher_presence, EndPusherNode: end_pusher_node}
