"""A shocker on a hub, with the user shares that let other accounts control it.

Shares live on the shocker because control decides on both at once (paused? allowed? capped?)
and a deleted shocker takes its shares with it. Stored forms are plain dicts keyed by the
other user's id, so events and snapshots stay readable JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate, event

from domain.openshock.values import PauseReason, ShareLimits, SharePermissions

Metadata = dict[str, Any]


@dataclass(frozen=True)
class UserShare:
    user_id: str
    permissions: SharePermissions
    limits: ShareLimits
    paused: bool
    created_at: datetime | None


class Shocker(Aggregate):
    Created: ClassVar[type[Aggregate.Created]]
    Edited: ClassVar[type[Aggregate.Event]]
    PauseSet: ClassVar[type[Aggregate.Event]]
    Deleted: ClassVar[type[Aggregate.Event]]
    Shared: ClassVar[type[Aggregate.Event]]
    ShareChanged: ClassVar[type[Aggregate.Event]]
    SharePauseSet: ClassVar[type[Aggregate.Event]]
    ShareRemoved: ClassVar[type[Aggregate.Event]]

    @event("Created")
    def __init__(
        self, hub_id: str, owner_id: str, name: str, rf_id: int, model: str, meta: Metadata
    ) -> None:
        self.hub_id = hub_id
        # A hub never changes owner, and a shocker moves only between its owner's hubs.
        self.owner_id = owner_id
        self.name = name
        self.rf_id = rf_id
        self.model = model
        self.paused = False
        self.deleted = False
        self.shares: dict[str, dict[str, Any]] = {}

    @event("Edited")
    def edit(self, hub_id: str, name: str, rf_id: int, model: str, meta: Metadata) -> None:
        self.hub_id = hub_id
        self.name = name
        self.rf_id = rf_id
        self.model = model

    @event("PauseSet")
    def set_paused(self, paused: bool, meta: Metadata) -> None:
        self.paused = paused

    @event("Deleted")
    def delete(self, meta: Metadata) -> None:
        self.deleted = True
        self.shares = {}

    def share_with(
        self,
        user_id: str,
        permissions: SharePermissions,
        limits: ShareLimits,
        paused: bool,
        at: datetime,
        meta: Metadata,
    ) -> None:
        """Creates the share, or replaces its rights if the user already has one."""
        self._shared(user_id, permissions.as_dict(), limits.as_dict(), paused, at, meta)

    @event("Shared")
    def _shared(
        self,
        user_id: str,
        permissions: dict[str, bool],
        limits: dict[str, int | None],
        paused: bool,
        at: datetime,
        meta: Metadata,
    ) -> None:
        created_at = self.shares.get(user_id, {}).get("created_at", at)
        self.shares[user_id] = {
            "permissions": dict(permissions),
            "limits": dict(limits),
            "paused": paused,
            "created_at": created_at,
        }

    def change_share(
        self, user_id: str, permissions: SharePermissions, limits: ShareLimits, meta: Metadata
    ) -> None:
        self._share_changed(user_id, permissions.as_dict(), limits.as_dict(), meta)

    @event("ShareChanged")
    def _share_changed(
        self,
        user_id: str,
        permissions: dict[str, bool],
        limits: dict[str, int | None],
        meta: Metadata,
    ) -> None:
        self.shares[user_id]["permissions"] = dict(permissions)
        self.shares[user_id]["limits"] = dict(limits)

    @event("SharePauseSet")
    def set_share_paused(self, user_id: str, paused: bool, meta: Metadata) -> None:
        self.shares[user_id]["paused"] = paused

    @event("ShareRemoved")
    def remove_share(self, user_id: str, meta: Metadata) -> None:
        del self.shares[user_id]

    def is_owned_by(self, user_id: str) -> bool:
        return not self.deleted and self.owner_id == user_id

    def share_of(self, user_id: str) -> UserShare | None:
        stored = None if self.deleted else self.shares.get(user_id)
        if stored is None:
            return None
        return UserShare(
            user_id=user_id,
            permissions=SharePermissions.from_dict(stored["permissions"]),
            limits=ShareLimits.from_dict(stored["limits"]),
            paused=bool(stored["paused"]),
            created_at=stored.get("created_at"),
        )

    def share_pause_reason(self, user_id: str) -> int:
        """PauseReason flags of a user's share: the owner's pause and the share's own."""
        share = self.shares.get(user_id, {})
        return (PauseReason.SHOCKER if self.paused else 0) | (
            PauseReason.SHARE if share.get("paused") else 0
        )
