"""Live control: which shockers of a hub a caller reaches and with which rights, and which
log records change that for a live session (or for the hub's ticks).

`live_access` reads the hub and share views (openshock_hub_view, openshock_share_view): the
owner reaches every shocker of the hub; anyone else the shockers shared with them, and may
open a live session only if one of those shares allows live (the real gateway's
HubNotFound rule). `live_changes` says, for one record, whose access is stale: sessions
index themselves by the keys it names (their hub, its link, its shockers, their token).
`exclusive_change` says when a REST control starts or ends an exclusive hold on a shocker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from domain.openshock.control import ShockerCommand
from domain.openshock.hub import Hub
from domain.openshock.hub_link import HubLink
from domain.openshock.live_control import LiveRights
from domain.openshock.shocker import Shocker
from domain.openshock.values import ControlType, ShockerControl
from domain.principals.api_token import ApiToken
from domain.principals.shocker_control import control_from_dict
from projections.openshock_hub_view import hub_by_id, shockers_of_hub
from projections.openshock_share_view import shared_with
from projections.records import LogRecord
from projections.view_store import ViewTransaction

# What live_access reads, for the reader's fresh_views.
LIVE_ACCESS_VIEWS = ("openshock_hubs", "openshock_user_shares")


@dataclass(frozen=True)
class LiveAccess:
    hub_id: str
    owner_id: str
    # Every shocker of the hub, reachable or not: a share of one of them later is news.
    hub_shockers: frozenset[str]
    rights: Mapping[str, LiveRights]
    # The owner, or a share of one of the hub's shockers that allows live.
    may_open: bool


def live_access(tx: ViewTransaction, user_id: str, hub_id: str) -> LiveAccess | None:
    """None: no such hub."""
    hub = hub_by_id(tx, hub_id)
    if hub is None:
        return None
    shockers = shockers_of_hub(tx, hub_id)
    hub_shockers = frozenset(s.id for s in shockers)
    if hub.owner_id == user_id:
        owned = {s.id: LiveRights(paused=s.is_paused) for s in shockers}
        return LiveAccess(hub_id, hub.owner_id, hub_shockers, owned, may_open=True)
    shares = [
        share
        for owner in shared_with(tx, user_id)
        for shared_hub in owner.hubs
        if shared_hub.id == hub_id
        for share in shared_hub.shockers
    ]
    rights = {
        s.id: LiveRights(
            paused=s.is_paused, permissions=s.permissions, intensity_cap=s.limits.intensity
        )
        for s in shares
    }
    may_open = any(s.permissions.live for s in shares)
    return LiveAccess(hub_id, hub.owner_id, hub_shockers, rights, may_open)


class LiveChange(Enum):
    ACCESS = "access"  # read live_access again
    TOKEN = "token"  # noqa: S105 - the token's shockerControl changed (`LiveNotice.control`)
    HUB_GONE = "hub_gone"  # the hub went offline or was deleted: the sessions end


@dataclass(frozen=True)
class LiveNotice:
    change: LiveChange
    key: str  # a hub id, a hub link id, a shocker id or a token id
    control: ShockerControl | None = None


_SHOCKER_ACCESS = frozenset(
    cls.__qualname__
    for cls in (
        Shocker.Created,
        Shocker.Edited,
        Shocker.PauseSet,
        Shocker.Deleted,
        Shocker.Shared,
        Shocker.ShareChanged,
        Shocker.SharePauseSet,
        Shocker.ShareRemoved,
    )
)
# A shocker created on a hub or moved to it names the hub; the others only the shocker.
_NAMES_HUB = frozenset({Shocker.Created.__qualname__, Shocker.Edited.__qualname__})
_TOKEN_CONTROL = frozenset({ApiToken.Changed.__qualname__, ApiToken.PauseChanged.__qualname__})
_HUB_DELETED = Hub.Deleted.__qualname__
# Only an end of the session the link holds is recorded: a reconnect through another socket
# keeps the hub online.
_LINK_DISCONNECTED = HubLink.Disconnected.__qualname__
_COMMAND_SENT = ShockerCommand.Sent.__qualname__


def live_changes(record: LogRecord) -> list[LiveNotice]:
    kind, payload = record.type, record.payload
    if kind in _SHOCKER_ACCESS:
        notices = [LiveNotice(LiveChange.ACCESS, record.aggregate_id)]
        hub_id = payload.get("hub_id")
        if kind in _NAMES_HUB and isinstance(hub_id, str):
            notices.append(LiveNotice(LiveChange.ACCESS, hub_id))
        return notices
    if kind in _TOKEN_CONTROL:
        stored = payload.get("shocker_control")
        control = control_from_dict(stored if isinstance(stored, dict) else None)
        return [LiveNotice(LiveChange.TOKEN, record.aggregate_id, control)]
    if kind in (_HUB_DELETED, _LINK_DISCONNECTED):
        return [LiveNotice(LiveChange.HUB_GONE, record.aggregate_id)]
    return []


@dataclass(frozen=True)
class ExclusiveChange:
    hub_id: str
    shocker_id: str
    until: float | None  # Unix seconds; None: a Stop ended any exclusive hold


def exclusive_change(record: LogRecord) -> ExclusiveChange | None:
    """A REST control that blocks live frames for its duration (exclusive, not a Stop), or
    a Stop, which lifts the block; anything else None."""
    if record.type != _COMMAND_SENT:
        return None
    payload = record.payload
    if payload.get("type") == ControlType.STOP.value:
        return ExclusiveChange(str(payload["hub_id"]), str(payload["shocker_id"]), None)
    if not payload.get("exclusive"):
        return None
    until = record.timestamp.timestamp() + int(payload["duration"]) / 1000
    return ExclusiveChange(str(payload["hub_id"]), str(payload["shocker_id"]), until)
