"""API tokens: a named credential with permissions, stored only as a hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]


class ApiToken(Aggregate):
    """Keyed by the token's hash so a request finds its token without any index."""

    @staticmethod
    def create_id(token_hash: str, **_: Any) -> UUID:
        return api_token_id(token_hash)

    @event("Issued")
    def __init__(
        self,
        name: str,
        token_hash: str,
        permissions: list[str],
        expires_at: datetime | None,
        meta: Metadata,
        owner: str | None = None,
    ) -> None:
        # The user (subject) the token acts for; None for tokens issued to the operator.
        self.owner = owner
        self.last_used_at: datetime | None = None
        self.name = name
        self.token_hash = token_hash
        self.permissions = list(permissions)
        self.expires_at = expires_at
        self.revoked = False

    @event("Revoked")
    def revoke(self, meta: Metadata) -> None:
        self.revoked = True

    @event("Used")
    def record_use(self, at: datetime, meta: Metadata) -> None:
        self.last_used_at = at

    def is_valid_at(self, now: datetime) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


def api_token_id(token_hash: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:api-token:{token_hash}")
