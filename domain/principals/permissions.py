"""Permissions are `resource:action` strings; a principal holds a set of them."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PERMISSION = re.compile(r"^[A-Za-z][A-Za-z0-9]*:(read|update|delete|create|\*)$")

KNOWN_RESOURCES = frozenset(
    {"deviceAuth", "audit", "tokens", "users", "account", "thermostats", "pusherApps"}
)


def parse_permissions(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validate and normalise a permission list; raises ValueError naming the bad entries."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    cleaned = [item.strip() for item in items if item.strip()]
    bad = [item for item in cleaned if not _PERMISSION.match(item)]
    if bad:
        raise ValueError(
            "permissions must look like resource:action (read, update, delete, create); "
            f"not valid: {', '.join(bad)}"
        )
    unknown = sorted({item.split(":")[0] for item in cleaned} - KNOWN_RESOURCES)
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
    return permission in ADMIN_PERMISSIONS | USER_PERMISSIONS and principal.may(permission)


def permissions_for_access_token(roles: list[str], scopes: list[str]) -> frozenset[str]:
    """A user's own rights, plus what the scopes granted to the client allow."""
    granted = frozenset().union(*(SCOPE_PERMISSIONS.get(scope, frozenset()) for scope in scopes))
    return permissions_for_roles(roles) | granted
