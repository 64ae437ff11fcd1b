"""A device's sign-in request (RFC 8628): approved by a person on another screen, redeemed once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]


class DeviceAuthorization(Aggregate):
    """Keyed by the user code people type in; the device code is stored only as a hash."""

    @staticmethod
    def create_id(user_code: str, **_: Any) -> UUID:
        return device_authorization_id(user_code)

    @event("Requested")
    def __init__(
        self,
        user_code: str,
        device_code_hash: str,
        client_id: str,
        scope: str,
        expires_at: datetime,
        meta: Metadata,
    ) -> None:
        self.user_code = user_code
        self.device_code_hash = device_code_hash
        self.client_id = client_id
        self.scope = scope
        self.expires_at = expires_at
        self.subject: str | None = None
        self.auth_time: int | None = None
        self.approved: bool | None = None
        self.redeemed_by_grant: str | None = None

    @event("Approved")
    def approve(self, subject: str, auth_time: int, meta: Metadata) -> None:
        self.subject = subject
        self.auth_time = auth_time
        self.approved = True

    @event("Denied")
    def deny(self, subject: str, meta: Metadata) -> None:
        self.subject = subject
        self.approved = False

    @event("Redeemed")
    def redeem(self, grant_id: str, meta: Metadata) -> None:
        self.redeemed_by_grant = grant_id

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def device_authorization_id(user_code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:device-authorization:{normalise_user_code(user_code)}")


def normalise_user_code(user_code: str) -> str:
    # People type codes with or without the dash, in any case (RFC 8628 §6.1).
    return "".join(c for c in user_code.upper() if c.isalnum())
