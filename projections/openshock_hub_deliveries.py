"""What each OpenShock hub is told, from the log: the hub gateway of whichever node holds the
hub's connection sends it.

- Controls: a request's items for one hub become one command list (ShockerCommand.Sent items
  share a request id), as the real API publishes one list per hub; a live-control tick is
  one list.
- Triggers (restart, emergency stop, captive portal) and firmware update requests.
- A new connection of the hub ends its older ones, on any node.
- A hub token replaced (regenerated, paired again) or the hub deleted ends its connection:
  the credential it opened with is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.openshock.control import HubCommand, LiveControlTick, ShockerCommand
from domain.openshock.hub import Hub
from domain.openshock.hub_link import HubLink
from domain.openshock.values import ControlType, ShockerModel
from projections.records import LogRecord

_MODELS = {model.value: number for number, model in enumerate(ShockerModel)}
_TYPES = {kind.value: number for number, kind in enumerate(ControlType)}


@dataclass(frozen=True)
class HubCommands:
    hub_id: str
    commands: tuple[HubCommand, ...]
    # A control request's items for the hub: `expected` in all. The log may hand them over
    # in more than one read (Kafka's polls): the gateway sends them once all have come.
    request_id: str | None = None
    expected: int = 0


@dataclass(frozen=True)
class HubTriggered:
    hub_id: str
    kind: int


@dataclass(frozen=True)
class HubOtaInstall:
    hub_id: str
    version: str


@dataclass(frozen=True)
class HubSessionStarted:
    """Every other session of the hub ends."""

    hub_id: str
    session_id: str


@dataclass(frozen=True)
class HubCredentialEnded:
    hub_id: str
    reason: str


HubDelivery = HubCommands | HubTriggered | HubOtaInstall | HubSessionStarted | HubCredentialEnded

_CREDENTIAL_ENDS = {
    Hub.TokenRegenerated: "the hub's token was regenerated",
    Hub.Paired: "the hub was paired again",
    Hub.Deleted: "the hub was deleted",
}


def hub_deliveries(records: Sequence[LogRecord]) -> list[HubDelivery]:
    """In log order; a request's control items, wherever they are in the batch, go out
    together where its first item stood."""
    # A request's place is held by its (hub, request) key until the batch is read.
    ordered: list[HubDelivery | tuple[str, str]] = []
    requests: dict[tuple[str, str], list[HubCommand]] = {}
    expected: dict[tuple[str, str], int] = {}
    for record in records:
        event, payload = record.event, record.payload
        if isinstance(event, ShockerCommand.Sent):
            key = (str(payload["hub_id"]), str(payload["request_id"]))
            if key not in requests:
                requests[key] = []
                expected[key] = int(payload.get("hub_items", 1))
                ordered.append(key)
            requests[key].append(_command(payload))
        elif isinstance(event, LiveControlTick.Sent):
            commands = tuple(_command(one) for one in payload["commands"])
            ordered.append(HubCommands(payload["hub_id"], commands))
        elif isinstance(event, HubLink.Triggered):
            ordered.append(HubTriggered(payload["hub_id"], int(payload["kind"])))
        elif isinstance(event, HubLink.OtaRequested):
            ordered.append(HubOtaInstall(payload["hub_id"], payload["version"]))
        elif isinstance(event, HubLink.Connected):
            ordered.append(HubSessionStarted(payload["hub_id"], payload["session_id"]))
        else:
            reason = _CREDENTIAL_ENDS.get(type(event))
            if reason is not None:
                ordered.append(HubCredentialEnded(record.aggregate_id, reason))
    return [
        HubCommands(entry[0], tuple(requests[entry]), entry[1], expected[entry])
        if isinstance(entry, tuple)
        else entry
        for entry in ordered
    ]


def _command(item: dict[str, Any]) -> HubCommand:
    return HubCommand(
        model=_MODELS.get(str(item["model"]), 0),
        rf_id=int(item["rf_id"]),
        type=_TYPES.get(str(item["type"]), 0),
        intensity=int(item["intensity"]),
        duration=int(item["duration"]),
    )
