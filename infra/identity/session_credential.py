"""What a long-lived session (a websocket) was opened with, kept so that it can be checked
again while the session lasts: a token may be revoked or expire long after the upgrade."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.principals.permissions import Principal


@dataclass(frozen=True)
class RevocableCredential:
    """The aggregate whose revocation ends the sessions opened with it."""

    kind: Literal["api_token", "grant"]
    id: str


@dataclass(frozen=True)
class SessionCredential:
    revocable: RevocableCredential | None
    # When the credential stops being valid by itself (Unix seconds); None: it does not.
    expires_at: float | None


@dataclass(frozen=True)
class Authenticated:
    """Who presented a token, and with what."""

    principal: Principal
    credential: SessionCredential
