"""A single-use authorization code (RFC 6749 §4.1), stored only as the hash of the code."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]


class AuthorizationCode(Aggregate):
    @staticmethod
    def create_id(code_hash: str, **_: Any) -> UUID:
        return authorization_code_id(code_hash)

    @event("Issued")
    def __init__(
        self,
        code_hash: str,
        client_id: str,
        redirect_uri: str,
        scope: str,
        subject: str,
        nonce: str | None,
        code_challenge: str | None,
        code_challenge_method: str | None,
        auth_time: int,
        expires_at: datetime,
        meta: Metadata,
    ) -> None:
        self.code_hash = code_hash
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.subject = subject
        self.nonce = nonce
        self.code_challenge = code_challenge
        self.code_challenge_method = code_challenge_method
        self.auth_time = auth_time
        self.expires_at = expires_at
        self.redeemed_by_grant: str | None = None

    @event("Redeemed")
    def redeem(self, grant_id: str, meta: Metadata) -> None:
        self.redeemed_by_grant = grant_id

    @event("ReuseDetected")
    def detect_reuse(self, meta: Metadata) -> None:
        """A second redemption: the code leaked. The grant it started is revoked with it."""


def authorization_code_id(code_hash: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:authorization-code:{code_hash}")
