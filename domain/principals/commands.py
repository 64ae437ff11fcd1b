"""Commands about principals and their credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.commands import Command
from domain.openshock.values import ShockerControl


@dataclass(frozen=True, kw_only=True)
class IssueApiToken(Command):
    """The plain token never reaches the domain: only its hash is recorded."""

    name: str
    token_hash: str
    permissions: tuple[str, ...]
    expires_at: datetime | None = None
    owner: str | None = None
    # OpenShock's v2 `shockerControl`; None: no limits (what v1 tokens get).
    shocker_control: ShockerControl | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeApiToken(Command):
    """OpenShock's PATCH /1|2/tokens/{id}: name and permissions, and with v2 the limits."""

    token_id: UUID
    name: str
    permissions: tuple[str, ...]
    # None leaves the limits as they are (v1's PATCH has none).
    shocker_control: ShockerControl | None = None
    # When set, only this user's token may be changed.
    owner: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetApiTokenPaused(Command):
    """OpenShock's PATCH /2/tokens/{id}/paused: a paused token may not control shockers."""

    token_id: UUID
    paused: bool
    owner: str | None = None


@dataclass(frozen=True, kw_only=True)
class RevokeApiToken(Command):
    token_id: UUID
    # When set, only this user's token may be revoked (a user revoking their own).
    owner: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordApiTokenUse(Command):
    token_id: UUID
    at: datetime
