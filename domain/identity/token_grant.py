"""One grant of tokens to a client: its refresh-token family, rotated on every use.

A refresh token is `<grant id>.<secret>`; the grant keeps the hash of the current one
and of every one it replaced, so presenting a replaced token is recognised as reuse
and revokes the whole family (RFC 9700 §4.14.2).

A login session (grant type "session", OpenShock's openShockSession cookie) is a grant
too: no access or refresh tokens, one session token kept as a hash (the grant's id is
derived from it), the user agent and address it was opened from, and an expiry that
slides with use. Being a grant, its revocation ends what was opened with it the way any
grant's does (infra/identity/grant_status.py, gateways/live_sessions.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]

SESSION_GRANT_TYPE = "session"
LOGIN_SESSION_LIFETIME = timedelta(days=30)
# A session's use is recorded (and its expiry slid) at most this often: `last_used_at` and
# the expiry are exact to this much, and a busy session costs one write per interval.
SESSION_TOUCH_INTERVAL = timedelta(hours=1)


class TokenGrant(Aggregate):
    Started: ClassVar[type[Aggregate.Event]]
    Refreshed: ClassVar[type[Aggregate.Event]]
    Extended: ClassVar[type[Aggregate.Event]]
    Revoked: ClassVar[type[Aggregate.Event]]

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
        access_token_id: str | None,
        refresh_token_hash: str | None,
        refresh_expires_at: datetime | None,
        meta: Metadata,
        session_hash: str | None = None,
        user_agent: str | None = None,
        address: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        self.client_id = client_id
        self.subject = subject
        self.scope = scope
        self.grant_type = grant_type
        self.access_token_ids = [] if access_token_id is None else [access_token_id]
        self.refresh_token_hash = refresh_token_hash
        self.refresh_expires_at = refresh_expires_at
        self.replaced_hashes: list[str] = []
        self.revoked = False
        self.revoked_reason: str | None = None
        # Login sessions only (None otherwise).
        self.session_hash = session_hash
        self.user_agent = user_agent
        self.address = address
        self.expires_at = expires_at
        self.last_used_at: datetime | None = None

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

    @property
    def is_session(self) -> bool:
        return self.grant_type == SESSION_GRANT_TYPE

    def session_live_at(self, now: datetime) -> bool:
        return (
            self.is_session
            and not self.revoked
            and self.expires_at is not None
            and now < self.expires_at
        )

    def touch_due_at(self, now: datetime) -> bool:
        """Whether a use at `now` should be recorded (and the expiry slid)."""
        last = self.last_used_at or self.created_on
        return self.session_live_at(now) and now - last >= SESSION_TOUCH_INTERVAL

    @event("Extended")
    def extend(self, last_used_at: datetime, expires_at: datetime, meta: Metadata) -> None:
        self.last_used_at = last_used_at
        self.expires_at = expires_at

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


def login_session_id(session_hash: str) -> UUID:
    """A session's id (its public id in listings), derived from its token's hash so that a
    request finds it without an index; the id tells nothing of the token."""
    return uuid5(NAMESPACE_URL, f"hubline:login-session:{session_hash}")
