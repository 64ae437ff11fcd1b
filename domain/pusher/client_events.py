"""A client event: one socket's `client-*` event on a private or presence channel.

Each is its own aggregate with a single event, as triggers are: the log records who said
what where (the sending socket, its presence user), and every node fans it out from the
log, so subscribers on other nodes hear it too. The gateway checked the channel, the
subscription, the name and the rate before sending the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.commands import Command, UnitOfWork
from domain.errors import DomainError

Metadata = dict[str, Any]


class PusherClientEvent(Aggregate):
    Sent: ClassVar[type[Aggregate.Event]]

    @event("Sent")
    def __init__(
        self,
        app_id: str,
        channel: str,
        name: str,
        data: Any,
        socket_id: str,
        user_id: str | None,
        meta: Metadata,
    ) -> None:
        self.app_id = app_id
        self.channel = channel
        self.name = name
        # As the client sent it (any JSON value); relayed to the others unchanged.
        self.data = data
        self.socket_id = socket_id
        self.user_id = user_id


@dataclass(frozen=True, kw_only=True)
class SendPusherClientEvent(Command):
    app_id: str
    channel: str
    name: str
    data: Any
    socket_id: str
    # The sender's presence user on a presence channel, told to the others as user_id.
    user_id: str | None = None


def send_pusher_client_event(command: SendPusherClientEvent, uow: UnitOfWork) -> UUID:
    if not command.name.startswith("client-"):
        raise DomainError("a client event's name starts with client-")
    sent = PusherClientEvent(
        app_id=command.app_id,
        channel=command.channel,
        name=command.name,
        data=command.data,
        socket_id=command.socket_id,
        user_id=command.user_id,
        meta=command.context.as_metadata(),
    )
    uow.add(sent)
    return sent.id


HANDLERS = {SendPusherClientEvent: send_pusher_client_event}
