"""Login sessions on the request path: minting a session token, and turning a presented
one (cookie `openShockSession` or header `OpenShockSession`) into the user's principal.

The token is 32 random characters shown once; the store keeps its hash, and the session's
grant id is derived from that hash (domain/identity/token_grant.py), so a request finds
its session without an index. What a valid session stands for is kept here for `max_age`
seconds; whether it is revoked is asked of `GrantStatus` on every use, which forgets a
grant the moment this node commits to it and when the log shows another node's change.
A kept expiry is only ever earlier than the stored one (expiry slides forward), so a
session reaching it is read again rather than refused.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import string
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from uuid import UUID

from domain.context import CommandContext
from domain.identity.commands import TouchLoginSession
from domain.identity.token_grant import SESSION_TOUCH_INTERVAL, login_session_id
from domain.principals.permissions import Principal, permissions_for_roles
from infra.command_bus import CommandBus
from infra.identity.credentials import hash_token
from infra.identity.grant_status import GrantStatus
from infra.identity.session_credential import (
    Authenticated,
    RevocableCredential,
    SessionCredential,
)
from infra.store.natural_keys import NaturalKeys

log = logging.getLogger(__name__)

SESSION_COOKIE = "openShockSession"
SESSION_HEADER = "OpenShockSession"
SESSION_TOKEN_LENGTH = 32
# Longer presented tokens are refused before any hashing or store read.
MAX_PRESENTED_LENGTH = 256

_ALPHABET = string.ascii_letters + string.digits
_SYSTEM = CommandContext(actor_id="hubline", actor_kind="system")


def mint_session_token() -> tuple[str, str]:
    """A new session token and its hash (what `StartLoginSession.session_hash` takes)."""
    token = "".join(secrets.choice(_ALPHABET) for _ in range(SESSION_TOKEN_LENGTH))
    return token, hash_token(token)


def session_id_of(token: str) -> UUID:
    """The session (grant) id a token names, e.g. to revoke the caller's own at logout."""
    return login_session_id(hash_token(token))


@dataclass(frozen=True, slots=True)
class _Known:
    grant_id: str
    authenticated: Authenticated
    expires_at: float  # Unix seconds, no later than the stored expiry
    last_used_at: float  # Unix seconds of the last recorded use
    read_at: float  # time.monotonic() when read from the store


class LoginSessionVerifier:
    def __init__(
        self,
        natural_keys: NaturalKeys,
        grants: GrantStatus,
        bus: CommandBus,
        max_entries: int = 10_000,
        max_age: float = 30.0,
    ) -> None:
        self._natural_keys = natural_keys
        self._grants = grants
        self._bus = bus
        self._max_entries = max_entries
        self._max_age = max_age
        self._lock = threading.Lock()
        self._known: OrderedDict[str, _Known] = OrderedDict()

    def known(self, token: str) -> Authenticated | None:
        """The session's principal if that is known without a store read or a write (cheap
        enough for the event loop); None when only `authenticate` can tell."""
        if not token or len(token) > MAX_PRESENTED_LENGTH:
            return None
        entry = self._fresh(hash_token(token))
        if (
            entry is None
            or self._grants.known(entry.grant_id) is not False
            or time.time() - entry.last_used_at >= SESSION_TOUCH_INTERVAL.total_seconds()
        ):
            return None
        return entry.authenticated

    def authenticate(self, token: str) -> Authenticated | None:
        """The user a live session stands for; records the use (sliding the expiry) when one
        is due. May read and write the store: call it from a worker thread."""
        if not token or len(token) > MAX_PRESENTED_LENGTH:
            return None
        session_hash = hash_token(token)
        entry = self._fresh(session_hash) or self._read(session_hash)
        # Asked even just after a read, so that the grant's state is kept for `known`.
        if entry is None or self._grants.is_revoked(entry.grant_id):
            self._drop(session_hash)
            return None
        now = time.time()
        if now - entry.last_used_at >= SESSION_TOUCH_INTERVAL.total_seconds():
            entry = self._touch(session_hash, entry, now)
        return None if entry is None else entry.authenticated

    def _read(self, session_hash: str) -> _Known | None:
        read_at = time.monotonic()
        grant = self._natural_keys.login_session(session_hash)
        now = datetime.now(UTC)
        if (
            grant is None
            or grant.subject is None
            or grant.expires_at is None
            or not hmac.compare_digest(grant.session_hash or "", session_hash)
            or not grant.session_live_at(now)
        ):
            return None
        user = self._natural_keys.user_by_subject(grant.subject)
        if user is None:
            return None
        grant_id = str(grant.id)
        expires_at = grant.expires_at.timestamp()
        principal = Principal(
            id=user.subject,
            kind="user",
            permissions=permissions_for_roles(list(user.roles)),
            credential_id=grant_id,
            credential_kind="session",
        )
        credential = SessionCredential(RevocableCredential("grant", grant_id), expires_at)
        last_used = (grant.last_used_at or grant.created_on).timestamp()
        entry = _Known(
            grant_id, Authenticated(principal, credential), expires_at, last_used, read_at
        )
        self._keep(session_hash, entry)
        return entry

    def _touch(self, session_hash: str, entry: _Known, now: float) -> _Known | None:
        try:
            expires = self._bus.execute_now(
                TouchLoginSession(
                    grant_id=UUID(entry.grant_id),
                    at=datetime.fromtimestamp(now, UTC),
                    context=_SYSTEM,
                )
            )
        except Exception:
            # The session stays usable; its use is recorded on a later request.
            log.exception("could not record the use of session %s", entry.grant_id)
            return entry
        if expires is None:
            self._drop(session_hash)
            return None
        expires_at = expires.timestamp()
        credential = replace(entry.authenticated.credential, expires_at=expires_at)
        touched = replace(
            entry,
            authenticated=Authenticated(entry.authenticated.principal, credential),
            expires_at=expires_at,
            last_used_at=now,
        )
        self._keep(session_hash, touched)
        return touched

    def _fresh(self, session_hash: str) -> _Known | None:
        with self._lock:
            entry = self._known.get(session_hash)
            if entry is None:
                return None
            if time.monotonic() - entry.read_at >= self._max_age or time.time() >= (
                entry.expires_at
            ):
                del self._known[session_hash]
                return None
            self._known.move_to_end(session_hash)
            return entry

    def _keep(self, session_hash: str, entry: _Known) -> None:
        with self._lock:
            self._known[session_hash] = entry
            self._known.move_to_end(session_hash)
            while len(self._known) > self._max_entries:
                self._known.popitem(last=False)

    def _drop(self, session_hash: str) -> None:
        with self._lock:
            self._known.pop(session_hash, None)
