"""Ways to hand control to others: legacy share codes, share invites, and share links."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate, event

from domain.openshock.values import PauseReason, ShareLimits, SharePermissions

Metadata = dict[str, Any]


class ShareCode(Aggregate):
    """A legacy share code (its id is the code): redeemed once, by anyone but the owner."""

    Created: ClassVar[type[Aggregate.Created]]
    Redeemed: ClassVar[type[Aggregate.Event]]
    Deleted: ClassVar[type[Aggregate.Event]]

    @event("Created")
    def __init__(
        self,
        shocker_id: str,
        owner_id: str,
        permissions: dict[str, bool],
        limits: dict[str, int | None],
        meta: Metadata,
    ) -> None:
        self.shocker_id = shocker_id
        self.owner_id = owner_id
        self.permissions = dict(permissions)
        self.limits = dict(limits)
        self.gone = False

    @event("Redeemed")
    def redeem(self, user_id: str, meta: Metadata) -> None:
        self.gone = True

    @event("Deleted")
    def delete(self, meta: Metadata) -> None:
        self.gone = True


class ShareInvite(Aggregate):
    """An offer to share shockers with one user (or, without a recipient, the first taker)."""

    Sent: ClassVar[type[Aggregate.Created]]
    Accepted: ClassVar[type[Aggregate.Event]]
    Denied: ClassVar[type[Aggregate.Event]]
    Cancelled: ClassVar[type[Aggregate.Event]]

    @event("Sent")
    def __init__(
        self,
        owner_id: str,
        recipient_id: str | None,
        shockers: list[dict[str, Any]],
        meta: Metadata,
    ) -> None:
        # Each item: {"shocker_id", "permissions", "limits"}, as SharePermissions/ShareLimits
        # write them.
        self.owner_id = owner_id
        self.recipient_id = recipient_id
        self.shockers = [dict(item) for item in shockers]
        self.state = "pending"

    @event("Accepted")
    def accept(self, user_id: str, meta: Metadata) -> None:
        self.state = "accepted"

    @event("Denied")
    def deny(self, user_id: str, meta: Metadata) -> None:
        self.state = "denied"

    @event("Cancelled")
    def cancel(self, meta: Metadata) -> None:
        self.state = "cancelled"

    def is_open_to(self, user_id: str) -> bool:
        return self.state == "pending" and self.recipient_id in (None, user_id)


class ShareLink(Aggregate):
    """A public share link: anyone with it may control its shockers within its rights."""

    Created: ClassVar[type[Aggregate.Created]]
    Deleted: ClassVar[type[Aggregate.Event]]
    ShockerAdded: ClassVar[type[Aggregate.Event]]
    ShockerEdited: ClassVar[type[Aggregate.Event]]
    ShockerPauseSet: ClassVar[type[Aggregate.Event]]
    ShockerRemoved: ClassVar[type[Aggregate.Event]]
    ShockerCooling: ClassVar[type[Aggregate.Event]]

    @event("Created")
    def __init__(
        self, owner_id: str, name: str, expires_at: datetime | None, meta: Metadata
    ) -> None:
        self.owner_id = owner_id
        self.name = name
        self.expires_at = expires_at
        self.deleted = False
        # shocker id -> {"permissions", "limits", "cooldown", "paused"}
        self.shockers: dict[str, dict[str, Any]] = {}

    @event("Deleted")
    def delete(self, meta: Metadata) -> None:
        self.deleted = True

    def add_shocker(self, shocker_id: str, meta: Metadata) -> None:
        # What the real API gives a newly added shocker: everything but live, no caps.
        self._shocker_added(shocker_id, SharePermissions().as_dict(), meta)

    @event("ShockerAdded")
    def _shocker_added(self, shocker_id: str, permissions: dict[str, bool], meta: Metadata) -> None:
        self.shockers[shocker_id] = {
            "permissions": dict(permissions),
            "limits": ShareLimits().as_dict(),
            "cooldown": None,
            "paused": False,
        }

    def edit_shocker(
        self,
        shocker_id: str,
        permissions: SharePermissions,
        limits: ShareLimits,
        cooldown: int | None,
        meta: Metadata,
    ) -> None:
        self._shocker_edited(shocker_id, permissions.as_dict(), limits.as_dict(), cooldown, meta)

    @event("ShockerEdited")
    def _shocker_edited(
        self,
        shocker_id: str,
        permissions: dict[str, bool],
        limits: dict[str, int | None],
        cooldown: int | None,
        meta: Metadata,
    ) -> None:
        entry = self.shockers[shocker_id]
        entry["permissions"] = dict(permissions)
        entry["limits"] = dict(limits)
        entry["cooldown"] = cooldown

    @event("ShockerPauseSet")
    def set_shocker_paused(self, shocker_id: str, paused: bool, meta: Metadata) -> None:
        self.shockers[shocker_id]["paused"] = paused

    @event("ShockerRemoved")
    def remove_shocker(self, shocker_id: str, meta: Metadata) -> None:
        del self.shockers[shocker_id]

    @event("ShockerCooling")
    def cool_shocker(self, shocker_id: str, ready_at_ms: int, meta: Metadata) -> None:
        """A control through the link with a cooldown: the next one waits until `ready_at_ms`
        (Unix milliseconds: the control's end plus the cooldown)."""
        self.shockers[shocker_id]["ready_at_ms"] = ready_at_ms

    def cooldown_of(self, shocker_id: str) -> int | None:
        entry = self.shockers.get(shocker_id)
        return None if entry is None else entry.get("cooldown")

    def is_cooling(self, shocker_id: str, now_ms: int) -> bool:
        entry = self.shockers.get(shocker_id)
        return entry is not None and now_ms < int(entry.get("ready_at_ms", 0))

    def is_live(self, now: datetime) -> bool:
        """An expired link is as good as missing, to its owner and to its guests."""
        return not self.deleted and (self.expires_at is None or now < self.expires_at)

    def pause_reason(self, shocker_id: str, shocker_paused: bool) -> int:
        entry = self.shockers.get(shocker_id, {})
        return (PauseReason.SHOCKER if shocker_paused else 0) | (
            PauseReason.SHARE_LINK if entry.get("paused") else 0
        )

    def rights_of(self, shocker_id: str) -> tuple[SharePermissions, ShareLimits, bool] | None:
        entry = self.shockers.get(shocker_id)
        if entry is None:
            return None
        return (
            SharePermissions.from_dict(entry["permissions"]),
            ShareLimits.from_dict(entry["limits"]),
            bool(entry["paused"]),
        )
