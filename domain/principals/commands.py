"""Commands about principals and their credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.commands import Command


@dataclass(frozen=True, kw_only=True)
class IssueApiToken(Command):
    """The plain token never reaches the domain: only its hash is recorded."""

    name: str
    token_hash: str
    permissions: tuple[str, ...]
    expires_at: datetime | None = None
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
