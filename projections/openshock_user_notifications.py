"""Who is told what on OpenShock's SignalR hubs (/1/hubs/user and /1/hubs/share/link/{id}).

- `Log(sender, logs)`: a control request's items, to each shocker's owner (one Log per owner
  per request); the sender is the user who sent it (or the share-link guest, all-zero id,
  "Guest"), with the token or share link it came through in `additionalItems`.
- `DeviceStatus([{device, online, firmwareVersion}])`: a hub came online (its session's first
  latency measurement) or went offline (its session ended, or a new session replaced one
  that was online), to its owner and the users its shockers are shared with.
- `DeviceUpdate(deviceId, type)`: a hub created (0), renamed (1), its shockers changed (2),
  deleted (3) or paired (4), to the same people.
- `OtaInstall*`: a hub's firmware update, to its owner.
- `Updated()`: a share link's configuration changed, to its hub's connections.

Enums are numbers and versions strings, as the real hubs write them (no string-enum
converter there). A hub's link events name their link, not the hub: which hub and owner a
link is, and whether its session was already counted online, is remembered from the log
(and read once from the hub links view for a link this process first hears of mid-session).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.openshock.control import ShockerCommand
from domain.openshock.hub import Hub
from domain.openshock.hub_link import HubLink
from domain.openshock.sharing import ShareLink
from domain.openshock.shocker import Shocker
from domain.openshock.values import ControlType
from projections.api_token_view import list_tokens
from projections.openshock_hub_link_view import LINKS_TABLE
from projections.openshock_shapes import GUEST, user_refs, utc_text
from projections.openshock_share_link_view import links_with_shocker
from projections.records import LogRecord
from projections.view_store import ViewTransaction

# DeviceUpdateType
CREATED, UPDATED, SHOCKER_UPDATED, DELETED, PAIRED = 0, 1, 2, 3, 4
# Welcome's AuthType on the share-link hub
AUTHENTICATED, GUEST_AUTH = 0, 1

_CONTROL_TYPES = list(ControlType)
_HUB_UPDATES: dict[type[Any], int] = {
    Hub.Created: CREATED,
    Hub.Renamed: UPDATED,
    Hub.ShockerAttached: SHOCKER_UPDATED,
    Hub.ShockerDetached: SHOCKER_UPDATED,
    Hub.Deleted: DELETED,
    Hub.Paired: PAIRED,
}
_LINK_EVENTS = (
    HubLink.Opened,
    HubLink.Connected,
    HubLink.LatencyMeasured,
    HubLink.Booted,
    HubLink.Disconnected,
    HubLink.OtaStarted,
    HubLink.OtaProgressed,
    HubLink.OtaFailed,
    HubLink.OtaSucceeded,
    HubLink.OtaRolledBack,
)
_SHARE_LINK_CHANGES = (
    ShareLink.Deleted,
    ShareLink.ShockerAdded,
    ShareLink.ShockerEdited,
    ShareLink.ShockerPauseSet,
    ShareLink.ShockerRemoved,
)
# A user gains or loses a share: which hubs they hear about changes.
_ACCESS_CHANGES = (Shocker.Shared, Shocker.ShareRemoved)
# What a hub's changes make of its shockers' shares and links, for relevant().
_TYPES: tuple[type[Any], ...] = (
    ShockerCommand.Sent,
    Shocker.Edited,
    *_HUB_UPDATES,
    *_LINK_EVENTS,
    *_SHARE_LINK_CHANGES,
    *_ACCESS_CHANGES,
    Shocker.PauseSet,
)


@dataclass(frozen=True)
class HubWatchers:
    """The hub's owner and every user a shocker of the hub is shared with."""

    hub_id: str
    owner_id: str | None  # None: not in the event; the gateway knows who watches the hub


@dataclass(frozen=True)
class ToUser:
    user_id: str


@dataclass(frozen=True)
class ToShareLink:
    """Everyone connected to the share link's hub."""

    share_link_id: str


Audience = HubWatchers | ToUser | ToShareLink


@dataclass(frozen=True)
class Delivery:
    audience: Audience
    target: str
    arguments: tuple[Any, ...]


@dataclass(frozen=True)
class AccessChanged:
    """A share of a shocker came or went: which hubs the user hears about changed."""

    user_id: str


Notice = Delivery | AccessChanged


def relevant(record: LogRecord) -> bool:
    """Whether the record may tell anyone anything (cheap: read on the event loop)."""
    return isinstance(record.event, _TYPES)


@dataclass
class _Link:
    hub_id: str
    owner_id: str
    firmware: str | None
    # The session counted online (its first latency seen), or None.
    online_session: str | None = None


class UserNotifications:
    """Turns log records into notices; remembers hubs' links between batches. Not
    thread-safe: feed it batches one at a time, in log order."""

    def __init__(self) -> None:
        self._links: dict[str, _Link] = {}

    def notices(self, tx: ViewTransaction, records: Sequence[LogRecord]) -> list[Notice]:
        notices: list[Notice] = []
        requests: dict[tuple[str, str], list[LogRecord]] = {}
        for record in records:
            event = record.event
            if isinstance(event, ShockerCommand.Sent):
                key = (str(record.payload["request_id"]), str(record.payload["owner_id"]))
                if key not in requests:
                    requests[key] = []
                    # Its place among the batch's notices; filled below with every item.
                    notices.append(Delivery(ToUser(key[1]), "Log", key))
                requests[key].append(record)
            elif isinstance(event, _LINK_EVENTS):
                notices.extend(self._link_notices(tx, record))
            elif isinstance(event, Shocker.PauseSet):
                # An owner's pause changes what a link's guests may do: their page reloads.
                for link_id in links_with_shocker(tx, record.aggregate_id):
                    notices.append(Delivery(ToShareLink(link_id), "Updated", ()))
            else:
                notices.extend(_other_notices(record))
        return [
            _log(tx, requests[n.arguments]) if isinstance(n, Delivery) and n.target == "Log" else n
            for n in notices
        ]

    def _link_notices(self, tx: ViewTransaction, record: LogRecord) -> list[Notice]:
        event, payload, link_id = record.event, record.payload, record.aggregate_id
        if isinstance(event, HubLink.Opened):
            self._links[link_id] = _Link(str(payload["hub_id"]), str(payload["owner_id"]), None)
            return []
        link = self._links.get(link_id) or self._stored_link(tx, link_id)
        if link is None:
            return []  # a link the views do not hold yet: nobody can be told about it
        watchers = HubWatchers(link.hub_id, link.owner_id)
        owner = ToUser(link.owner_id)
        hub = link.hub_id
        if isinstance(event, HubLink.Connected):
            link.firmware = str(payload["firmware_version"])
            if link.online_session is not None:
                link.online_session = None  # a new session replaced one that was online
                return [_status(watchers, hub, False, link.firmware)]
            return []
        if isinstance(event, HubLink.Booted):
            link.firmware = str(payload["firmware_version"])
            return []
        if isinstance(event, HubLink.LatencyMeasured):
            session = str(payload["session_id"])
            if link.online_session == session:
                return []
            link.online_session = session
            return [_status(watchers, hub, True, link.firmware)]
        if isinstance(event, HubLink.Disconnected):
            link.online_session = None
            return [_status(watchers, hub, False, link.firmware)]
        update = int(payload["update_id"])
        if isinstance(event, HubLink.OtaStarted):
            return [Delivery(owner, "OtaInstallStarted", (hub, update, str(payload["version"])))]
        if isinstance(event, HubLink.OtaProgressed):
            progress = (hub, update, int(payload["task"]), float(payload["progress"]))
            return [Delivery(owner, "OtaInstallProgress", progress)]
        if isinstance(event, HubLink.OtaFailed):
            failure = (hub, update, bool(payload["fatal"]), str(payload["message"]))
            return [Delivery(owner, "OtaInstallFailed", failure)]
        if isinstance(event, HubLink.OtaSucceeded):
            return [Delivery(owner, "OtaInstallSucceeded", (hub, update))]
        return [Delivery(owner, "OtaRollback", (hub, update))]

    def _stored_link(self, tx: ViewTransaction, link_id: str) -> _Link | None:
        # Online or not is not taken from the view: the view may already hold this very
        # record, and a redundant DeviceStatus costs less than a missing one.
        rows = tx.fetchall(
            f"SELECT hub_id, owner_id, firmware_version FROM {LINKS_TABLE} WHERE link_id = ?",
            (link_id,),
        )
        if not rows:
            return None
        hub_id, owner_id, firmware = rows[0]
        link = _Link(str(hub_id), str(owner_id), None if firmware is None else str(firmware))
        self._links[link_id] = link
        return link


def _other_notices(record: LogRecord) -> list[Notice]:
    event, payload = record.event, record.payload
    update = _HUB_UPDATES.get(type(event))
    if update is not None:
        owner = str(payload["owner_id"]) if isinstance(event, Hub.Created) else None
        hub_id = record.aggregate_id
        return [Delivery(HubWatchers(hub_id, owner), "DeviceUpdate", (hub_id, update))]
    if isinstance(event, Shocker.Edited):
        hub_id = str(payload["hub_id"])
        return [Delivery(HubWatchers(hub_id, None), "DeviceUpdate", (hub_id, SHOCKER_UPDATED))]
    if isinstance(event, _SHARE_LINK_CHANGES):
        return [Delivery(ToShareLink(record.aggregate_id), "Updated", ())]
    if isinstance(event, _ACCESS_CHANGES):
        return [AccessChanged(str(payload["user_id"]))]
    return []


def _status(audience: HubWatchers, hub_id: str, online: bool, firmware: str | None) -> Delivery:
    state = {"device": hub_id, "online": online, "firmwareVersion": firmware}
    return Delivery(audience, "DeviceStatus", ([state],))


def _log(tx: ViewTransaction, items: list[LogRecord]) -> Delivery:
    """One request's items for one owner: Log(sender, logs)."""
    first = items[0].payload
    meta = items[0].meta
    controlled_by = first.get("controlled_by")
    additional: dict[str, str] = {}
    if controlled_by is None:
        sender = GUEST
    else:
        sender = user_refs(tx, [str(controlled_by)])[str(controlled_by)]
        credential = meta.get("credential_id")
        # A session's credential is its grant; only an API token's id is shown.
        if credential is not None and any(
            token.id == credential for token in list_tokens(tx, str(controlled_by))
        ):
            additional["apiTokenId"] = str(credential)
    if first.get("share_link_id") is not None:
        additional["shareLinkId"] = str(first["share_link_id"])
    sender_json = {
        "id": sender.id,
        "name": sender.name,
        "image": sender.image,
        "customName": first.get("custom_name"),
        "connectionId": str(meta.get("correlation_id") or ""),
        "additionalItems": additional,
    }
    logs = [
        {
            "shocker": {"id": r.payload["shocker_id"], "name": r.payload["shocker_name"]},
            "type": _CONTROL_TYPES.index(ControlType(r.payload["type"])),
            "intensity": r.payload["intensity"],
            "duration": r.payload["duration"],
            "executedAt": utc_text(r.timestamp),
        }
        for r in items
    ]
    return Delivery(ToUser(str(first["owner_id"])), "Log", (sender_json, logs))
