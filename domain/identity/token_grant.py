"""One grant of tokens to a client: its refresh-token family, rotated on every use.

A refresh token is `<grant id>.<secret>`; the grant keeps the hash of the current one
and of every one it replaced, so presenting a replaced token is recognised as reuse
and revokes the whole family (RFC 9700 §4.14.2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]


class TokenGrant(Aggregate):
    @staticmethod
    def create_id(grant_id: UUID, **_: Any) -> UUID:
        # Chosen by the caller: the refresh token it hands out names its grant.
        return grant_id

    @event("Started")
    def __init__(
        self,
        grant_id: UUID,
        client_id: str,
        subject: str | None,
        scope: str,
        grant_type: str,
        access_token_id: str,
        refresh_token_hash: str | None,
        refresh_expires_at: datetime | None,
        meta: Metadata,
    ) -> None:
        self.client_id = client_id
        self.subject = subject
        self.scope = scope
        self.grant_type = grant_type
        self.access_token_ids = [access_token_id]
        self.refresh_token_hash = refresh_token_hash
        self.refresh_expires_at = refresh_expires_at
        self.replaced_hashes: list[str] = []
        self.revoked = False
        self.revoked_reason: str | None = None

    @event("Refreshed")
    def refresh(
        self,
        access_token_id: str,
        refresh_token_hash: str,
        refresh_expires_at: datetime,
        meta: Metadata,
    ) -> None:
        if self.refresh_token_hash is not None:
            self.replaced_hashes.append(self.refresh_token_hash)
        self.refresh_token_hash = refresh_token_hash
        self.refresh_expires_at = refresh_expires_at
        self.access_token_ids.append(access_token_id)

    @event("Revoked")
    def revoke(self, reason: str, meta: Metadata) -> None:
        self.revoked = True
        self.revoked_reason = reason

    def refresh_usable_at(self, now: datetime) -> bool:
        return (
            not self.revoked
            and self.refresh_token_hash is not None
            and self.refresh_expires_at is not None
            and now < self.refresh_expires_at
        )
