"""OpenShock's value types and hard limits: models, control types, share rights, token scoping.

Enum members are written in events by name ("Shock", "PetTrainer"), as the REST bodies
write them; their order is the number the hub protocol and the REST input use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from domain.openshock.errors import PermissionMissing, SessionOnly, invalid

MAX_HUBS_PER_USER = 4
MAX_SHOCKERS_PER_HUB = 11
MAX_SHOCKERS_PER_INVITE = 128
MIN_INTENSITY, MAX_INTENSITY = 0, 100
MIN_DURATION, MAX_DURATION = 300, 65535  # milliseconds; the hub protocol's uint16
MAX_RF_ID = 65535
MAX_NAME_LENGTH = 64  # hubs, shockers, share links
MAX_CUSTOM_NAME_LENGTH = 64  # the name a control log shows for its sender
PAIR_CODE_LIFETIME = timedelta(minutes=15)
HUB_TOKEN_LENGTH = 256  # drawn at the edge; the domain keeps only its hash


class ShockerModel(StrEnum):
    CAIXIANLIN = "CaiXianlin"
    PETTRAINER = "PetTrainer"  # sic: the real API and the firmware spell it so
    PETRAINER_998DR = "Petrainer998DR"
    WELLTURN_T330 = "WellturnT330"


class ControlType(StrEnum):
    STOP = "Stop"
    SHOCK = "Shock"
    VIBRATE = "Vibrate"
    SOUND = "Sound"


class LimitMode(StrEnum):
    # Clamp pins a value into [min, max]; Lerp maps the whole input range onto [min, max].
    CLAMP = "Clamp"
    LERP = "Lerp"


class PauseReason:
    """Flags telling why a shared shocker is paused, as the API reports them (an int)."""

    NONE = 0
    SHOCKER = 1
    SHARE = 2
    SHARE_LINK = 4


E = TypeVar("E", bound=StrEnum)


def parse_enum(cls: type[E], value: object, path: str) -> E:
    """A member by name (any case) or by its number, as the real API's JSON reader accepts."""
    members = list(cls)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(members):
        return members[value]
    if isinstance(value, str):
        for member in members:
            if member.value.lower() == value.lower():
                return member
    raise invalid(path, f"must be one of {', '.join(m.value for m in members)}")


class Permission(StrEnum):
    """What an API token may do; a session may do everything (there is no hierarchy)."""

    SHOCKERS_USE = "shockers.use"
    SHOCKERS_EDIT = "shockers.edit"
    SHOCKERS_PAUSE = "shockers.pause"
    DEVICES_EDIT = "devices.edit"
    DEVICES_AUTH = "devices.auth"
    USERSHARES_EDIT = "usershares.edit"
    USERSHARES_PAUSE = "usershares.pause"
    PUBLICSHARES_EDIT = "publicshares.edit"
    PUBLICSHARES_PAUSE = "publicshares.pause"


@dataclass(frozen=True)
class ValueRange:
    """An API token's scoping of one control value (v2 `shockerControl.intensity|duration`)."""

    min: int
    max: int
    mode: LimitMode = LimitMode.CLAMP

    def apply(self, value: int, input_min: int, input_max: int) -> int:
        if self.mode is LimitMode.LERP:
            t = 0.0 if input_max <= input_min else (value - input_min) / (input_max - input_min)
            mapped = _round_half_away(self.min + (self.max - self.min) * t)
            return max(self.min, min(self.max, mapped))
        return max(self.min, min(self.max, value))


def _round_half_away(value: float) -> int:
    # Decimal(float) is the double's exact value, so .5 cases round as .NET's
    # Math.Round(x, MidpointRounding.AwayFromZero) rounds them (values here are never negative).
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class ShockerControl:
    """An API token's control scoping; the default changes nothing."""

    paused: bool = False
    intensity: ValueRange = ValueRange(MIN_INTENSITY, MAX_INTENSITY)
    duration: ValueRange = ValueRange(MIN_DURATION, MAX_DURATION)

    def apply_intensity(self, intensity: int) -> int:
        return self.intensity.apply(intensity, MIN_INTENSITY, MAX_INTENSITY)

    def apply_duration(self, duration: int) -> int:
        return self.duration.apply(duration, MIN_DURATION, MAX_DURATION)


def checked_shocker_control(control: ShockerControl) -> ShockerControl:
    """Refuses ranges the real API refuses (outside the hard limits, or min above max)."""
    for name, rng, low, high in (
        ("intensity", control.intensity, MIN_INTENSITY, MAX_INTENSITY),
        ("duration", control.duration, MIN_DURATION, MAX_DURATION),
    ):
        for bound in ("min", "max"):
            value = getattr(rng, bound)
            if not _is_int_between(value, low, high):
                raise invalid(f"shockerControl.{name}.{bound}", f"must be {low}..{high}")
        if rng.min > rng.max:
            raise invalid(f"shockerControl.{name}", "min must not be above max")
    return control


@dataclass(frozen=True)
class TokenGrant:
    """What an API token allows, as the edge read it from the token when authenticating."""

    token_id: str
    permissions: frozenset[str]
    control: ShockerControl = field(default_factory=ShockerControl)


@dataclass(frozen=True)
class Caller:
    """The account a request acts for, and the API token it came with (None: a session)."""

    user_id: UUID
    token: TokenGrant | None = None

    def require(self, permission: Permission) -> None:
        """Sessions hold every permission; a token only those it was given."""
        if self.token is not None and permission.value not in self.token.permissions:
            raise PermissionMissing(
                f"You do not have the required permission {permission.value}",
                requiredPermission=permission.value,
                grantedPermissions=sorted(self.token.permissions),
            )

    def require_session(self) -> None:
        if self.token is not None:
            raise SessionOnly()

    def allows(self, permission: Permission) -> bool:
        return self.token is None or permission.value in self.token.permissions


@dataclass(frozen=True)
class SharePermissions:
    vibrate: bool = True
    sound: bool = True
    shock: bool = True
    live: bool = False

    def allows(self, control_type: ControlType) -> bool:
        if control_type is ControlType.STOP:
            # Stopping is allowed to whoever may start anything.
            return self.shock or self.vibrate or self.sound
        return {
            ControlType.SHOCK: self.shock,
            ControlType.VIBRATE: self.vibrate,
            ControlType.SOUND: self.sound,
        }[control_type]

    def as_dict(self) -> dict[str, bool]:
        return {
            "vibrate": self.vibrate,
            "sound": self.sound,
            "shock": self.shock,
            "live": self.live,
        }

    @staticmethod
    def from_dict(stored: dict[str, Any]) -> SharePermissions:
        return SharePermissions(
            vibrate=bool(stored["vibrate"]),
            sound=bool(stored["sound"]),
            shock=bool(stored["shock"]),
            live=bool(stored["live"]),
        )


@dataclass(frozen=True)
class ShareLimits:
    """Caps a share puts on control; None is no cap (the hard limits still hold)."""

    intensity: int | None = None
    duration: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {"intensity": self.intensity, "duration": self.duration}

    @staticmethod
    def from_dict(stored: dict[str, Any]) -> ShareLimits:
        return ShareLimits(intensity=stored.get("intensity"), duration=stored.get("duration"))


def checked_limits(limits: ShareLimits, path: str = "limits") -> ShareLimits:
    if limits.intensity is not None and not _is_int_between(
        limits.intensity, MIN_INTENSITY, MAX_INTENSITY
    ):
        raise invalid(f"{path}.intensity", f"must be {MIN_INTENSITY}..{MAX_INTENSITY} or null")
    if limits.duration is not None and not _is_int_between(
        limits.duration, MIN_DURATION, MAX_DURATION
    ):
        raise invalid(f"{path}.duration", f"must be {MIN_DURATION}..{MAX_DURATION} or null")
    return limits


def clamp_to_share(intensity: int, duration: int, limits: ShareLimits | None) -> tuple[int, int]:
    """Pins a control into a share's caps silently, as the real API does (owners: hard limits)."""
    top_intensity = (
        MAX_INTENSITY if limits is None or limits.intensity is None else limits.intensity
    )
    top_duration = MAX_DURATION if limits is None or limits.duration is None else limits.duration
    return (
        max(MIN_INTENSITY, min(top_intensity, intensity)),
        max(MIN_DURATION, min(top_duration, duration)),
    )


def checked_name(name: str, path: str = "name") -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise invalid(path, f"must be 1 to {MAX_NAME_LENGTH} characters")
    return name


def _is_int_between(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
