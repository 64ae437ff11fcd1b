"""One trigger of the HTTP API: an event sent to channels of an app.

Each trigger is its own aggregate with a single event, so triggers never contend with
each other (or with the app) for a version in the group commit, and the log alone is what
the websocket gateways fan out from, on every node.
"""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]


class PusherTrigger(Aggregate):
    Triggered: ClassVar[type[Aggregate.Event]]

    @event("Triggered")
    def __init__(
        self,
        app_id: str,
        channels: list[str],
        name: str,
        data: str,
        socket_id: str | None,
        meta: Metadata,
    ) -> None:
        # `data` is kept as given: on private-encrypted- channels it is already ciphertext
        # that only the clients can open, so the log never holds their plaintext.
        self.app_id = app_id
        self.channels = list(channels)
        self.name = name
        self.data = data
        self.socket_id = socket_id
