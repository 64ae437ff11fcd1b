"""How OpenShock shows a Hubline user: its name, picture, roles, and the session cookie."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Response

from domain.identity.token_grant import LOGIN_SESSION_LIFETIME
from domain.identity.user import User
from infra.identity.login_sessions import SESSION_COOKIE
from projections.openshock_shapes import image_url

# OpenShock's roles, lowest first; Hubline's "user" is every account and shows as none.
_ROLES = {"admin": "Admin"}


def account_name(user: User) -> str:
    """OpenShock's `name` is the username; a user made without one shows its display name."""
    return user.username or user.name


def image_of(user: User) -> str:
    return image_url(hashlib.sha256(user.email.encode()).hexdigest())


def roles_of(user: User) -> list[str]:
    return [_ROLES[role] for role in user.roles if role in _ROLES]


def self_view(user: User) -> dict[str, Any]:
    roles = roles_of(user)
    return {
        "id": user.subject,
        "name": account_name(user),
        "email": user.email,
        "image": image_of(user),
        "roles": roles,
        "rank": roles[-1] if roles else "User",
        "hasPassword": bool(user.password_hash),
    }


def login_view(user: User) -> dict[str, Any]:
    return {
        "accountId": user.subject,
        "accountName": account_name(user),
        "accountEmail": user.email,
        # No mail service: every account is activated when it is made.
        "isVerified": True,
        "profileImage": image_of(user),
        "accountRoles": roles_of(user),
    }


def basic_view(user: User) -> dict[str, Any]:
    return {"id": user.subject, "name": account_name(user), "image": image_of(user)}


def set_session_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(LOGIN_SESSION_LIFETIME.total_seconds()),
        httponly=True,
        # Secure on an https deployment; a client would not send it back over plain http.
        secure=secure,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
