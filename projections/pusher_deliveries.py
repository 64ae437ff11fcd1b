"""Who is told what on Pusher sockets: a trigger goes to its channels' subscribers, a
client event to its channel's other subscribers, and a
terminated user or a disabled app has its sockets closed, and a changed app is read again.

Every node reads every record, so each node tells its own sockets; `excluded_socket_id` is
the socket the trigger's sender named (a socket on any node), which is not told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.pusher.client_events import PusherClientEvent
from domain.pusher.pusher_app import PusherApp
from domain.pusher.trigger import PusherTrigger
from projections.records import LogRecord


@dataclass(frozen=True)
class ChannelEvent:
    app_id: str
    channel: str
    name: str
    # A trigger's data is a string; a client event's is the JSON value its client sent.
    data: Any
    excluded_socket_id: str | None
    # A client event on a presence channel: the sender's user, told to the others.
    user_id: str | None = None


@dataclass(frozen=True)
class UserDisconnected:
    """terminate_connections: every socket of the user gets 4009."""

    app_id: str
    user_id: str


@dataclass(frozen=True)
class AppDisabled:
    """The app's open sockets get 4003, as a new one would."""

    app_id: str


@dataclass(frozen=True)
class AppChanged:
    """New limits, secret or name: open sockets read the app again."""

    app_id: str


PusherDelivery = ChannelEvent | UserDisconnected | AppDisabled | AppChanged

_CONFIG_CHANGES = (
    PusherApp.LimitsSet,
    PusherApp.SecretRotated,
    PusherApp.Enabled,
    PusherApp.Renamed,
    PusherApp.WebhooksSet,
)


def pusher_deliveries(record: LogRecord) -> list[PusherDelivery]:
    event = record.event
    if isinstance(event, PusherTrigger.Triggered):
        payload = record.payload
        socket_id = payload.get("socket_id")
        return [
            ChannelEvent(payload["app_id"], channel, payload["name"], payload["data"], socket_id)
            for channel in payload["channels"]
        ]
    if isinstance(event, PusherClientEvent.Sent):
        payload = record.payload
        return [
            ChannelEvent(
                payload["app_id"],
                payload["channel"],
                payload["name"],
                payload["data"],
                payload["socket_id"],
                payload.get("user_id"),
            )
        ]
    if isinstance(event, PusherApp.UserConnectionsTerminated):
        return [UserDisconnected(record.payload["app_id"], str(record.payload["user_id"]))]
    if isinstance(event, PusherApp.Disabled):
        return [AppDisabled(record.payload["app_id"])]
    if isinstance(event, _CONFIG_CHANGES):
        return [AppChanged(record.payload["app_id"])]
    return []
