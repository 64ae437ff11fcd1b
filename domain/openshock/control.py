"""One control item that was sent to a shocker: the event a hub gateway delivers and the
control logs are made of.

Each item is its own aggregate with a single event, like a Pusher trigger: controls never
contend for a version with each other or with the shocker they name, and the log alone is
what every node's gateway reads. Items of one request share a `request_id`, so a gateway can
hand a hub one command list per request, as the real API does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]


@dataclass(frozen=True)
class HubCommand:
    """One command as a hub is sent it: model and control type as the hub protocol's numbers
    (their order in ShockerModel and ControlType), the RF id, intensity, duration in ms."""

    model: int
    rf_id: int
    type: int
    intensity: int
    duration: int


class ShockerCommand(Aggregate):
    Sent: ClassVar[type[Aggregate.Created]]

    @event("Sent")
    def __init__(
        self,
        request_id: str,
        shocker_id: str,
        shocker_name: str,
        hub_id: str,
        owner_id: str,
        rf_id: int,
        model: str,
        type: str,  # the field's name on the wire and in the logs
        intensity: int,
        duration: int,
        exclusive: bool,
        controlled_by: str | None,
        custom_name: str | None,
        share_link_id: str | None,
        meta: Metadata,
        hub_items: int = 1,
    ) -> None:
        # What the hub needs (hub, RF id, model, type, intensity, duration, exclusive), and
        # what the log shows: who (a user, or None for a share-link guest, whose name is
        # `custom_name`), through which link; the token is the meta's credential.
        self.request_id = request_id
        self.shocker_id = shocker_id
        self.shocker_name = shocker_name
        self.hub_id = hub_id
        self.owner_id = owner_id
        self.rf_id = rf_id
        self.model = model
        self.type = type
        self.intensity = intensity
        self.duration = duration
        self.exclusive = exclusive
        self.controlled_by = controlled_by
        self.custom_name = custom_name
        self.share_link_id = share_link_id
        # How many of the request's items go to this hub: its gateway sends them as one
        # command list even when the log hands them over in separate reads. (1 in events
        # recorded before it was kept.)
        self.hub_items = hub_items


class LiveControlTick(Aggregate):
    """What one tick of a hub's live control sends it: every shocker a live session holds
    active, at the tick's duration. One event per hub per tick at most (5 a second), so live
    frames arriving at 10 a second per client cost the log no more than that; each tick is
    its own aggregate, as each control item is."""

    Sent: ClassVar[type[Aggregate.Created]]

    @event("Sent")
    def __init__(
        self, hub_id: str, owner_id: str, commands: list[dict[str, Any]], meta: Metadata
    ) -> None:
        # Each command: shocker_id, rf_id, model, type, intensity, duration (ms).
        self.hub_id = hub_id
        self.owner_id = owner_id
        self.commands = commands
