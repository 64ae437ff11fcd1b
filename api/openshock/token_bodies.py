"""API token bodies and responses as OpenShock's /1/tokens and /2/tokens write them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.openshock import schemas
from api.openshock.bodies import Fields
from api.openshock.responses import utc
from domain.openshock.errors import InvalidRequest
from domain.openshock.values import (
    MAX_DURATION,
    MAX_INTENSITY,
    MIN_DURATION,
    MIN_INTENSITY,
    LimitMode,
    Permission,
    ShockerControl,
    ValueRange,
    parse_enum,
)
from domain.principals.permissions import OPENSHOCK_PERMISSIONS
from domain.principals.shocker_control import control_as_dict, control_from_dict
from projections.api_token_view import ApiTokenRow

MAX_TOKEN_NAME_LENGTH = 64
MAX_PERMISSIONS = 256
# What .NET writes for a token never used (v1's `lastUsed` is not nullable).
NEVER = "0001-01-01T00:00:00"

_PERMISSION = {"type": "string", "enum": sorted(OPENSHOCK_PERMISSIONS)}
_RANGE = schemas.obj(
    ["min", "max"],
    min={"type": "integer"},
    max={"type": "integer"},
    mode={"type": "string", "enum": ["Clamp", "Lerp"]},
)
SHOCKER_CONTROL = schemas.obj(
    ["paused", "intensity", "duration"],
    paused={"type": "boolean"},
    intensity=_RANGE,
    duration=_RANGE,
)
_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_TOKEN_NAME_LENGTH}
_PERMISSIONS = {"type": "array", "items": _PERMISSION, "maxItems": MAX_PERMISSIONS}
_VALID_UNTIL = {"type": ["string", "null"], "format": "date-time"}
TOKEN_V1 = schemas.obj(["name"], name=_NAME, permissions=_PERMISSIONS, validUntil=_VALID_UNTIL)
TOKEN_V2 = schemas.obj(
    ["name", "permissions", "shockerControl"],
    name=_NAME,
    permissions=_PERMISSIONS,
    shockerControl=SHOCKER_CONTROL,
    validUntil=_VALID_UNTIL,
)
PAUSED = schemas.obj(["paused"], paused={"type": "boolean"})
# What Fields.get answers for a member the body does not have.
_ABSENT = Fields({}).get("absent")


@dataclass(frozen=True)
class TokenBody:
    name: str
    permissions: tuple[str, ...]
    valid_until: datetime | None
    # None: v1, which has none (a new v1 token changes nothing; a PATCH keeps what it had).
    shocker_control: ShockerControl | None


def read_token(body: Any, v2: bool, creating: bool) -> TokenBody:
    fields = Fields(body)
    name = fields.text("name").strip()
    if not 1 <= len(name) <= MAX_TOKEN_NAME_LENGTH:
        fields.fail("name", f"API token length must be between 1 and {MAX_TOKEN_NAME_LENGTH}")
    permissions = _permissions(fields, required=v2)
    valid_until = _valid_until(fields) if creating else None
    control = _shocker_control(fields) if v2 else None
    fields.check()
    return TokenBody(name, permissions, valid_until, control)


def read_paused(body: Any) -> bool:
    fields = Fields(body)
    paused = fields.boolean("paused")
    fields.check()
    return paused


def _permissions(fields: Fields, required: bool) -> tuple[str, ...]:
    value = fields.get("permissions")
    if not isinstance(value, list):
        if required or value is not _ABSENT:  # v1 defaults an absent list, not a wrong one
            fields.fail("permissions", "is required and must be a list of permissions")
        return (Permission.SHOCKERS_USE.value,)
    if len(value) > MAX_PERMISSIONS:
        fields.fail("permissions", f"API token permissions must be between 0 and {MAX_PERMISSIONS}")
    found: list[str] = []
    for index, item in enumerate(value):
        known = next(
            (p for p in OPENSHOCK_PERMISSIONS if isinstance(item, str) and p == item.lower()), None
        )
        if known is None:
            fields.fail(f"permissions[{index}]", "is not a known permission")
        else:
            found.append(known)
    return tuple(sorted(set(found)))


def _valid_until(fields: Fields) -> datetime | None:
    value = fields.optional_text("validUntil")
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fields.fail("validUntil", "must be an ISO-8601 date and time")
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _shocker_control(fields: Fields) -> ShockerControl:
    value = fields.get("shockerControl")
    if not isinstance(value, dict):
        fields.fail("shockerControl", "is required and must be an object")
        return ShockerControl()
    control = Fields(value, fields.path("shockerControl"))
    paused = control.boolean("paused")
    intensity = _range(fields, control, "intensity", MIN_INTENSITY, MAX_INTENSITY)
    duration = _range(fields, control, "duration", MIN_DURATION, MAX_DURATION)
    _merge(fields, control)
    return ShockerControl(paused, intensity, duration)


def _range(top: Fields, parent: Fields, name: str, low: int, high: int) -> ValueRange:
    value = parent.get(name)
    if not isinstance(value, dict):
        parent.fail(name, "is required and must be an object")
        return ValueRange(low, high)
    limits = Fields(value, parent.path(name))
    minimum = limits.integer("min")
    maximum = limits.integer("max")
    raw_mode = limits.get("mode")
    mode = LimitMode.CLAMP
    if raw_mode is not _ABSENT and raw_mode is not None:
        try:
            mode = parse_enum(LimitMode, raw_mode, limits.path("mode"))
        except InvalidRequest:
            limits.fail("mode", "must be Clamp or Lerp")
    _merge(top, limits)
    # The ranges themselves (bounds, min <= max) are the domain's to check.
    return ValueRange(minimum, maximum, mode)


def _merge(top: Fields, nested: Fields) -> None:
    """A nested object's problems, listed with the body's (their paths are whole already)."""
    try:
        nested.check()
    except InvalidRequest as exc:
        for path, messages in exc.errors.items():
            for message in messages:
                top.fail(path, message)


def _time(stored: str | None) -> str | None:
    return None if stored is None else utc(datetime.fromisoformat(stored))


def openshock_permissions(row: ApiTokenRow) -> list[str]:
    return [p for p in row.permissions if p in OPENSHOCK_PERMISSIONS]


def token_v1(row: ApiTokenRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "createdOn": _time(row.created_at),
        "validUntil": _time(row.expires_at),
        "lastUsed": _time(row.last_used_at) or NEVER,
        "permissions": openshock_permissions(row),
    }


def token_v2(row: ApiTokenRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "createdOn": _time(row.created_at),
        "validUntil": _time(row.expires_at),
        "lastUsed": _time(row.last_used_at),
        "permissions": openshock_permissions(row),
        "shockerControl": control_as_dict(control_from_dict(row.shocker_control)),
    }


def created(token_id: str, token: str, body: TokenBody, at: datetime, v2: bool) -> dict[str, Any]:
    created_at = utc(at)
    answer: dict[str, Any] = {
        "id": token_id,
        "name": body.name,
        "token": token,
        "createdAt": created_at,
        # Not in the real response (it says createdAt); the official SDK reads createdOn.
        "createdOn": created_at,
        "validUntil": None if body.valid_until is None else utc(body.valid_until),
        "lastUsed": None if v2 else NEVER,
        "permissions": list(body.permissions),
    }
    if v2:
        answer["shockerControl"] = control_as_dict(body.shocker_control or ShockerControl())
    return answer
