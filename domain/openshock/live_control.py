"""Live control's rules: what one frame from a live client may do, and what a hub's tick
sends.

A frame is decided in the real gateway's order (LiveControlController on the develop
branch): a paused API token refuses everything; then the shocker must be one the caller
reaches on the hub (owner: every shocker of the hub; otherwise a user share), not paused
(by its owner or on the share), with live allowed by the share and the frame's type allowed
too; the token's `shockerControl` scopes the intensity (clamp or lerp), then the share's cap
pins it. Last, a shocker under an exclusive REST control refuses live frames until that
control ends. The real gateway folds a share without `live` into "missing permission";
ShockerMissingLivePermission (151), which its protocol still defines, says it here.

A frame has no duration: it keeps its shocker active for a while (`hold_seconds`), and the
hub's tick, five times a second, sends every active shocker at 500 ms, so that a stream of
frames is one continuous command on the hub and a client that stops stops the shocker.
Times are Unix seconds (floats): exclusive controls come from other nodes' events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.openshock.hub_link_commands import LiveCommand
from domain.openshock.values import (
    MAX_INTENSITY,
    MIN_INTENSITY,
    ControlType,
    SharePermissions,
    ShockerControl,
)

MIN_TPS, MAX_TPS, DEFAULT_TPS = 1, 10, 10
TICK_SECONDS = 0.2  # the hub loop's 5 ticks a second
TICK_DURATION_MS = 500  # 2.5 ticks: a command lasts until the next tick's, with slack
_MIN_HOLD_SECONDS = 0.25
OWNER_PERMISSIONS = SharePermissions(vibrate=True, sound=True, shock=True, live=True)


class LiveRefusal(StrEnum):
    """Why a frame was not taken: the ResponseType the client is sent (numbers 150..155)."""

    SHOCKER_NOT_FOUND = "ShockerNotFound"
    SHOCKER_MISSING_LIVE_PERMISSION = "ShockerMissingLivePermission"
    SHOCKER_MISSING_PERMISSION = "ShockerMissingPermission"
    SHOCKER_PAUSED = "ShockerPaused"
    SHOCKER_EXCLUSIVE = "ShockerExclusive"
    TOKEN_PAUSED = "TokenPaused"  # noqa: S105 - a response type, no secret


@dataclass(frozen=True)
class LiveRights:
    """What a caller may do with one shocker of the hub, as the views said when last read."""

    paused: bool  # by its owner, or the share
    permissions: SharePermissions = OWNER_PERMISSIONS
    intensity_cap: int | None = None  # the share's limit; None: the hard limit


@dataclass(frozen=True)
class Refused:
    reason: LiveRefusal
    until: float | None = None  # ShockerExclusive: when the exclusive control ends


@dataclass(frozen=True)
class ActiveFrame:
    """A shocker's last accepted frame, and until when it keeps the shocker going."""

    type: ControlType
    intensity: int
    active_until: float


def clamped_tps(raw: str | None) -> int:
    """`?tps=`: a byte (0..255) clamped into 1..10; anything else is the default, 10."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 3:
        return DEFAULT_TPS
    value = int(raw)
    if value > 255:
        return DEFAULT_TPS
    return max(MIN_TPS, min(MAX_TPS, value))


def hold_seconds(tps: int) -> float:
    """How long one frame keeps its shocker active: 2.5 of the client's frame intervals,
    at least 250 ms."""
    return max(2.5 / tps, _MIN_HOLD_SECONDS)


def decide_frame(
    rights: LiveRights | None,
    control_type: ControlType,
    intensity: int,
    token: ShockerControl | None,
    exclusive_until: float | None,
    now: float,
) -> int | Refused:
    """The intensity a frame is taken at, or why it is refused. `rights` None: the caller
    reaches no such shocker on the hub; `token` None: a login session (nothing scoped)."""
    if token is not None and token.paused:
        return Refused(LiveRefusal.TOKEN_PAUSED)
    if rights is None:
        return Refused(LiveRefusal.SHOCKER_NOT_FOUND)
    if rights.paused:
        return Refused(LiveRefusal.SHOCKER_PAUSED)
    if not rights.permissions.live:
        return Refused(LiveRefusal.SHOCKER_MISSING_LIVE_PERMISSION)
    if not rights.permissions.allows(control_type):
        return Refused(LiveRefusal.SHOCKER_MISSING_PERMISSION)
    scoped = intensity if token is None else token.apply_intensity(min(intensity, MAX_INTENSITY))
    cap = MAX_INTENSITY if rights.intensity_cap is None else rights.intensity_cap
    taken = max(MIN_INTENSITY, min(cap, scoped))
    if exclusive_until is not None and exclusive_until > now:
        return Refused(LiveRefusal.SHOCKER_EXCLUSIVE, exclusive_until)
    return taken


def tick_commands(
    active: Mapping[str, ActiveFrame], exclusive: Mapping[str, float], now: float
) -> tuple[LiveCommand, ...]:
    """One tick's commands: every shocker still active and not under an exclusive control,
    each for TICK_DURATION_MS."""
    return tuple(
        LiveCommand(
            shocker_id=UUID(shocker_id),
            type=frame.type.value,
            intensity=frame.intensity,
            duration=TICK_DURATION_MS,
        )
        for shocker_id, frame in active.items()
        if frame.active_until > now and exclusive.get(shocker_id, 0.0) <= now
    )
