"""Commands of the OpenShock surface.

Each names the `caller` it acts for (the account, and the API token if there is one): the
handler checks the token's permission, and ownership, itself. Secrets (hub tokens) and random
draws (pair codes) come from the edge; the domain sees hashes and the code it is to record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.commands import Command
from domain.openshock.values import Caller, ShareLimits, SharePermissions

# --- hubs and pairing ---


@dataclass(frozen=True, kw_only=True)
class CreateHub(Command):
    caller: Caller
    name: str
    token_hash: str
    # The token sealed with the deployment's master key; the domain never opens it.
    sealed_token: str


@dataclass(frozen=True, kw_only=True)
class RenameHub(Command):
    caller: Caller
    hub_id: UUID
    name: str


@dataclass(frozen=True, kw_only=True)
class RegenerateHubToken(Command):
    caller: Caller
    hub_id: UUID
    token_hash: str
    sealed_token: str


@dataclass(frozen=True, kw_only=True)
class DeleteHub(Command):
    """Its shockers go with it, and their shares."""

    caller: Caller
    hub_id: UUID


@dataclass(frozen=True, kw_only=True)
class IssuePairCode(Command):
    caller: Caller
    hub_id: UUID
    code: str  # 6 digits, drawn by the edge
    now: datetime


@dataclass(frozen=True, kw_only=True)
class RedeemPairCode(Command):
    """Anonymous: the code is the credential. The hub is handed a fresh token (its hash here)."""

    code: str
    token_hash: str
    sealed_token: str
    now: datetime


# --- shockers ---


@dataclass(frozen=True, kw_only=True)
class RegisterShocker(Command):
    caller: Caller
    hub_id: UUID
    name: str
    rf_id: int
    model: str | int


@dataclass(frozen=True, kw_only=True)
class EditShocker(Command):
    """The full body, as PATCH /1/shockers/{id} takes it; `hub_id` may move it to another hub."""

    caller: Caller
    shocker_id: UUID
    hub_id: UUID
    name: str
    rf_id: int
    model: str | int


@dataclass(frozen=True, kw_only=True)
class PauseShocker(Command):
    caller: Caller
    shocker_id: UUID
    paused: bool


@dataclass(frozen=True, kw_only=True)
class RemoveShocker(Command):
    caller: Caller
    shocker_id: UUID


# --- control ---


@dataclass(frozen=True, kw_only=True)
class ControlItem:
    shocker_id: UUID
    type: str | int
    intensity: int
    duration: int  # milliseconds
    exclusive: bool = False


@dataclass(frozen=True, kw_only=True)
class ControlShockers(Command):
    """POST /2/shockers/control (and /1, with no custom name); one event per item sent."""

    caller: Caller
    items: tuple[ControlItem, ...]
    custom_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class ControlThroughShareLink(Command):
    """Control by whoever holds a share link: a guest (user_id None, named) or a user."""

    share_link_id: UUID
    user_id: UUID | None
    guest_name: str | None
    items: tuple[ControlItem, ...]
    now: datetime


# --- user shares: legacy share codes and per-shocker edits ---


@dataclass(frozen=True, kw_only=True)
class CreateShareCode(Command):
    caller: Caller
    shocker_id: UUID
    permissions: SharePermissions
    limits: ShareLimits


@dataclass(frozen=True, kw_only=True)
class RedeemShareCode(Command):
    caller: Caller
    share_code_id: UUID
    now: datetime


@dataclass(frozen=True, kw_only=True)
class DeleteShareCode(Command):
    caller: Caller
    share_code_id: UUID


@dataclass(frozen=True, kw_only=True)
class UpdateUserShares(Command):
    """PATCH /2/shares/user/{userId}/shockers, and the legacy per-shocker PATCH."""

    caller: Caller
    user_id: UUID
    shocker_ids: tuple[UUID, ...]
    permissions: SharePermissions
    limits: ShareLimits


@dataclass(frozen=True, kw_only=True)
class PauseUserShares(Command):
    caller: Caller
    user_id: UUID
    shocker_ids: tuple[UUID, ...]
    paused: bool
    # The legacy route checks shockers.pause and answers Shocker.NotFound for a missing share;
    # v2 checks usershares.pause and answers Share.User.NotFound.
    legacy: bool = False


@dataclass(frozen=True, kw_only=True)
class RemoveUserShares(Command):
    caller: Caller
    user_id: UUID
    shocker_ids: tuple[UUID, ...]
    # The legacy route answers Shocker.NotFound for a missing share; v2 Share.User.NotFound.
    legacy: bool = False


# --- share invites ---


@dataclass(frozen=True, kw_only=True)
class InvitedShocker:
    shocker_id: UUID
    permissions: SharePermissions
    limits: ShareLimits


@dataclass(frozen=True, kw_only=True)
class SendShareInvite(Command):
    """The edge checked that `recipient_id` is an account (User.NotFound otherwise)."""

    caller: Caller
    recipient_id: UUID | None
    shockers: tuple[InvitedShocker, ...]


@dataclass(frozen=True, kw_only=True)
class AcceptShareInvite(Command):
    caller: Caller
    invite_id: UUID
    now: datetime


@dataclass(frozen=True, kw_only=True)
class DenyShareInvite(Command):
    caller: Caller
    invite_id: UUID


@dataclass(frozen=True, kw_only=True)
class CancelShareInvite(Command):
    caller: Caller
    invite_id: UUID


# --- share links ---


@dataclass(frozen=True, kw_only=True)
class CreateShareLink(Command):
    caller: Caller
    name: str
    expires_at: datetime | None
    now: datetime


@dataclass(frozen=True, kw_only=True)
class DeleteShareLink(Command):
    caller: Caller
    share_link_id: UUID
    now: datetime


@dataclass(frozen=True, kw_only=True)
class AddShockerToShareLink(Command):
    caller: Caller
    share_link_id: UUID
    shocker_id: UUID
    now: datetime


@dataclass(frozen=True, kw_only=True)
class EditShareLinkShocker(Command):
    caller: Caller
    share_link_id: UUID
    shocker_id: UUID
    permissions: SharePermissions
    limits: ShareLimits
    cooldown: int | None
    now: datetime


@dataclass(frozen=True, kw_only=True)
class PauseShareLinkShocker(Command):
    caller: Caller
    share_link_id: UUID
    shocker_id: UUID
    paused: bool
    now: datetime


@dataclass(frozen=True, kw_only=True)
class RemoveShockerFromShareLink(Command):
    caller: Caller
    share_link_id: UUID
    shocker_id: UUID
    now: datetime
