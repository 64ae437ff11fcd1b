"""Commands of the identity provider. Secrets arrive hashed or encrypted, never in clear."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.commands import Command


@dataclass(frozen=True, kw_only=True)
class RegisterUser(Command):
    email: str
    name: str
    password_hash: str
    roles: tuple[str, ...] = ()
    # OpenShock accounts have one (unique regardless of case); other users may have none.
    username: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeUsername(Command):
    subject: str
    username: str
    at: datetime
    # Staff (and the operator's CLI) may rename without waiting out the cooldown.
    ignore_cooldown: bool = False


@dataclass(frozen=True, kw_only=True)
class UpdateAccount(Command):
    """Change what is given, together; None leaves it as it is."""

    subject: str
    name: str | None = None
    temperature_scale: str | None = None
    language: str | None = None
    password_hash: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordLogin(Command):
    email: str
    succeeded: bool
    at: datetime
    client_id: str | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RegisterClient(Command):
    client_id: str
    name: str
    public: bool
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    secret_hash: str | None
    id_token_alg: str = "RS256"  # noqa: S105 - an algorithm name, not a secret


@dataclass(frozen=True, kw_only=True)
class RotateClientSecret(Command):
    client_id: str
    secret_hash: str
    previous_valid_until: datetime


@dataclass(frozen=True, kw_only=True)
class StartTokenGrant(Command):
    grant_id: UUID
    client_id: str
    subject: str | None
    scope: str
    grant_type: str
    access_token_id: str
    refresh_token_hash: str | None
    refresh_expires_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class RefreshTokenGrant(Command):
    grant_id: UUID
    presented_hash: str
    access_token_id: str
    refresh_token_hash: str
    refresh_expires_at: datetime
    at: datetime


@dataclass(frozen=True, kw_only=True)
class RevokeTokenGrant(Command):
    grant_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True)
class AddSigningKey(Command):
    kid: str
    alg: str
    public_jwk: dict[str, Any] = field(default_factory=dict)
    private_key_encrypted: str
    added_at: datetime


@dataclass(frozen=True, kw_only=True)
class IssueAuthorizationCode(Command):
    code_hash: str
    client_id: str
    redirect_uri: str
    scope: str
    subject: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class RedeemAuthorizationCode(Command):
    """Marks the code used and starts its token grant, in one transaction."""

    code_hash: str
    grant: StartTokenGrant


@dataclass(frozen=True, kw_only=True)
class GrantConsent(Command):
    subject: str
    client_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RequestDeviceAuthorization(Command):
    user_code: str
    device_code_hash: str
    client_id: str
    scope: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class DecideDeviceAuthorization(Command):
    user_code: str
    subject: str
    approve: bool
    auth_time: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class RedeemDeviceAuthorization(Command):
    user_code: str
    grant: StartTokenGrant


@dataclass(frozen=True, kw_only=True)
class StartLoginSession(Command):
    """A password login's session (OpenShock's openShockSession): a grant of its own kind,
    so that revoking it ends what it opened as any grant's revocation does."""

    session_hash: str
    subject: str
    user_agent: str
    address: str
    at: datetime
    client_id: str = "openshock"


@dataclass(frozen=True, kw_only=True)
class TouchLoginSession(Command):
    """A use of the session: slides its expiry (at most once per `SESSION_TOUCH_INTERVAL`)."""

    grant_id: UUID
    at: datetime


@dataclass(frozen=True, kw_only=True)
class RevokeLoginSession(Command):
    grant_id: UUID
    # When set, only this user's session may be revoked (a user ending one of their own).
    subject: str | None = None
    reason: str = "logout"
