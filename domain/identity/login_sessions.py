"""Login sessions (OpenShock's openShockSession): opened by a password login, slid by use,
ended by logout or by their user. Each is a `TokenGrant` of the "session" type."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.commands import UnitOfWork
from domain.errors import DomainError, NotFound
from domain.identity.commands import RevokeLoginSession, StartLoginSession, TouchLoginSession
from domain.identity.token_grant import (
    LOGIN_SESSION_LIFETIME,
    SESSION_GRANT_TYPE,
    TokenGrant,
    login_session_id,
)
from domain.identity.user import User


def start_login_session(command: StartLoginSession, uow: UnitOfWork) -> UUID:
    """Opens a session for an existing user; returns its id (the public id listings show)."""
    try:
        known = uow.get(User, UUID(command.subject)) is not None
    except ValueError:
        known = False
    if not known:
        raise NotFound("no such user")
    grant_id = login_session_id(command.session_hash)
    if uow.get(TokenGrant, grant_id) is not None:
        raise DomainError("a session with this token already exists")
    uow.add(
        TokenGrant(
            grant_id=grant_id,
            client_id=command.client_id,
            subject=command.subject,
            scope="",
            grant_type=SESSION_GRANT_TYPE,
            access_token_id=None,
            refresh_token_hash=None,
            refresh_expires_at=None,
            meta=command.context.as_metadata(),
            session_hash=command.session_hash,
            user_agent=command.user_agent[:_MAX_USER_AGENT],
            address=command.address[:_MAX_ADDRESS],
            expires_at=command.at + LOGIN_SESSION_LIFETIME,
        )
    )
    return grant_id


_MAX_USER_AGENT = 256
_MAX_ADDRESS = 64


def touch_login_session(command: TouchLoginSession, uow: UnitOfWork) -> datetime | None:
    """Records a use and slides the expiry, if one is due; returns the expiry (None: the
    session is gone, revoked or expired, and stays so)."""
    grant = uow.get(TokenGrant, command.grant_id)
    if grant is None or not grant.session_live_at(command.at):
        return None
    if grant.touch_due_at(command.at):
        grant.extend(
            last_used_at=command.at,
            expires_at=command.at + LOGIN_SESSION_LIFETIME,
            meta=command.context.as_metadata(),
        )
    return grant.expires_at


def revoke_login_session(command: RevokeLoginSession, uow: UnitOfWork) -> None:
    grant = uow.get(TokenGrant, command.grant_id)
    subject = command.subject
    if grant is None or not grant.is_session or (subject is not None and grant.subject != subject):
        raise SessionNotFound("The session was not found")
    if not grant.revoked:
        grant.revoke(reason=command.reason, meta=command.context.as_metadata())


class SessionNotFound(NotFound):
    code = "Session.NotFound"


HANDLERS = {
    StartLoginSession: start_login_session,
    TouchLoginSession: touch_login_session,
    RevokeLoginSession: revoke_login_session,
}
