"""Permissions are `resource:action` strings; a principal holds a set of them.

OpenShock's API token permissions (`shockers.use`, `devices.edit`, ...) are held in the same
set, under the names its API writes: each stands alone (no hierarchy, no wildcard), and only
API tokens are limited by them (a user's session may do everything OpenShock allows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from domain.openshock.values import Permission as OpenShockPermission
from domain.openshock.values import ShockerControl

OPENSHOCK_PERMISSIONS = frozenset(p.value for p in OpenShockPermission)

_PERMISSION = re.compile(r"^[A-Za-z][A-Za-z0-9]*:(read|update|delete|create|\*)$")

KNOWN_RESOURCES = frozenset(
    {"deviceAuth", "audit", "tokens", "users", "account", "thermostats", "pusherApps"}
)


def parse_permissions(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validate and normalise a permission list; raises ValueError naming the bad entries."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    cleaned = [item.strip() for item in items if item.strip()]
    bad = [
        item
        for item in cleaned
        if not _PERMISSION.match(item) and item not in OPENSHOCK_PERMISSIONS
    ]
    if bad:
        raise ValueError(
            "permissions must look like resource:action (read, update, delete, create) "
            f"or be one of OpenShock's ({', '.join(sorted(OPENSHOCK_PERMISSIONS))}); "
            f"not valid: {', '.join(bad)}"
        )
    hubline = [item for item in cleaned if item not in OPENSHOCK_PERMISSIONS]
    unknown = sorted({item.split(":")[0] for item in hubline} - KNOWN_RESOURCES)
    if unknown:
        raise ValueError(f"unknown resources: {', '.join(unknown)}")
    return tuple(sorted(set(cleaned)))


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user, a device or an API token."""

    id: str
    kind: str
    permissions: frozenset[str]
    credential_id: str | None = None
    # What the caller presented: OpenShock tells sessions (every right) from API tokens
    # (their permissions and control limits) and accepts no OAuth access token.
    credential_kind: Literal["api_token", "access_token", "session"] | None = None
    # An API token's OpenShock control limits (None for any other credential).
    shocker_control: ShockerControl | None = None

    def may(self, permission: str) -> bool:
        resource = permission.split(":", 1)[0]
        return permission in self.permissions or f"{resource}:*" in self.permissions


# What people may do by role; an API token a user creates can hold at most these.
USER_PERMISSIONS = frozenset({"tokens:read", "tokens:create", "tokens:delete"})
ADMIN_PERMISSIONS = USER_PERMISSIONS | {
    "deviceAuth:read",
    "deviceAuth:update",
    "deviceAuth:delete",
    "audit:read",
    "users:read",
    "users:create",
    "users:update",
    "thermostats:create",
    "pusherApps:read",
    "pusherApps:update",
}


# What an OAuth scope lets a client do on the user's behalf: `restapi` is SENZ's scope for
# its thermostat API (account, thermostats, modes).
SCOPE_PERMISSIONS = {
    "restapi": frozenset({"account:read", "thermostats:read", "thermostats:update"}),
}


def permissions_for_roles(roles: list[str]) -> frozenset[str]:
    return ADMIN_PERMISSIONS if "admin" in roles else USER_PERMISSIONS


def may_give_to_api_token(principal: Principal, permission: str) -> bool:
    """Whether a caller may put `permission` in an API token it creates: only what its role
    gives it. A scope lets one client act for the user within one grant; a token made from
    it would outlive the grant, so scope-derived permissions are not the user's to hand on."""
    if permission in OPENSHOCK_PERMISSIONS:
        # OpenShock's rights are every user's over their own hubs and shockers.
        return principal.kind == "user"
    return permission in ADMIN_PERMISSIONS | USER_PERMISSIONS and principal.may(permission)


def permissions_for_access_token(roles: list[str], scopes: list[str]) -> frozenset[str]:
    """A user's own rights, plus what the scopes granted to the client allow."""
    granted = frozenset().union(*(SCOPE_PERMISSIONS.get(scope, frozenset()) for scope in scopes))
    return permissions_for_roles(roles) | granted
