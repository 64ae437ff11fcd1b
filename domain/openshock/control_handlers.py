"""Control decisions, in the real API's order, and the one event per item they record.

Order (OpenShock's ShockerController and ControlSender): the token's shockers.use; the body's
validation; a paused token; then per distinct shocker id, in order: not found (or not the
caller's, nor shared with them), paused (by its owner or on the share), type not allowed by
the share. The first refusal ends the command before anything is recorded. What passes is
scoped by the token's shockerControl (clamp or lerp), then silently capped by the share.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from uuid import UUID, uuid4

from domain.commands import UnitOfWork
from domain.openshock.commands import ControlItem, ControlShockers, ControlThroughShareLink
from domain.openshock.control import ShockerCommand
from domain.openshock.errors import (
    ControlNoPermission,
    ControlNotFound,
    ControlPaused,
    InvalidRequest,
    ShareLinkCooldown,
    ShareLinkNotFound,
    TokenPaused,
    invalid,
)
from domain.openshock.sharing import ShareLink
from domain.openshock.shocker import Shocker
from domain.openshock.values import (
    MAX_CUSTOM_NAME_LENGTH,
    MAX_DURATION,
    MAX_INTENSITY,
    MIN_DURATION,
    MIN_INTENSITY,
    ControlType,
    Permission,
    ShareLimits,
    ShockerControl,
    clamp_to_share,
    parse_enum,
)

MAX_GUEST_NAME_LENGTH = 32


@dataclass(frozen=True)
class _Checked:
    shocker_id: UUID
    type: ControlType
    intensity: int
    duration: int
    exclusive: bool


@dataclass(frozen=True)
class _Decided:
    shocker: Shocker
    item: _Checked
    intensity: int
    duration: int


def control_shockers(command: ControlShockers, uow: UnitOfWork) -> list[UUID]:
    caller = command.caller
    caller.require(Permission.SHOCKERS_USE)
    items = checked_items(command.items)
    custom_name = _checked_optional_name(command.custom_name, "customName", MAX_CUSTOM_NAME_LENGTH)
    scoping: ShockerControl | None = None
    if caller.token is not None:
        if caller.token.control.paused:
            raise TokenPaused()
        scoping = caller.token.control
    user_id = str(caller.user_id)
    decided = []
    for item in items:
        shocker = uow.get(Shocker, item.shocker_id)
        if shocker is None or shocker.deleted:
            raise _not_found(item)
        limits: ShareLimits | None = None
        if shocker.owner_id != user_id:
            share = shocker.share_of(user_id)
            if share is None:
                raise _not_found(item)
            if shocker.paused or share.paused:
                raise _paused(item)
            if not share.permissions.allows(item.type):
                raise _no_permission(item)
            limits = share.limits
        elif shocker.paused:
            raise _paused(item)
        intensity, duration = item.intensity, item.duration
        if scoping is not None:
            intensity = scoping.apply_intensity(intensity)
            duration = scoping.apply_duration(duration)
        intensity, duration = clamp_to_share(intensity, duration, limits)
        decided.append(_Decided(shocker, item, intensity, duration))
    return _record(uow, command, decided, user_id, custom_name, share_link_id=None)


def control_through_share_link(command: ControlThroughShareLink, uow: UnitOfWork) -> list[UUID]:
    link = uow.get(ShareLink, command.share_link_id)
    if link is None or not link.is_live(command.now):
        raise ShareLinkNotFound()
    guest_name = _checked_optional_name(command.guest_name, "name", MAX_GUEST_NAME_LENGTH)
    if command.user_id is None and guest_name is None:
        raise invalid("name", "a guest needs a name")
    items = checked_items(command.items)
    now_ms = int(command.now.timestamp() * 1000)
    decided = []
    for item in items:
        rights = link.rights_of(str(item.shocker_id))
        shocker = uow.get(Shocker, item.shocker_id)
        if rights is None or shocker is None or not shocker.is_owned_by(link.owner_id):
            raise _not_found(item)
        permissions, limits, link_paused = rights
        if shocker.paused or link_paused:
            raise _paused(item)
        if not permissions.allows(item.type):
            raise _no_permission(item)
        if link.is_cooling(str(item.shocker_id), now_ms):
            raise ShareLinkCooldown(
                f"Shocker {item.shocker_id} is cooling down", shockerId=str(item.shocker_id)
            )
        intensity, duration = clamp_to_share(item.intensity, item.duration, limits)
        decided.append(_Decided(shocker, item, intensity, duration))
    meta = command.context.as_metadata()
    for one in decided:
        cooldown = link.cooldown_of(str(one.shocker.id))
        if cooldown is not None and one.item.type is not ControlType.STOP:
            link.cool_shocker(str(one.shocker.id), now_ms + one.duration + cooldown, meta=meta)
    controlled_by = None if command.user_id is None else str(command.user_id)
    return _record(uow, command, decided, controlled_by, guest_name, str(link.id))


def checked_items(items: tuple[ControlItem, ...]) -> list[_Checked]:
    """Every item valid (400 Validation.Error naming each bad field), then de-duplicated by
    shocker id, the first of each kept, as the real API does."""
    errors: dict[str, list[str]] = {}
    checked: list[_Checked] = []
    for index, item in enumerate(items):
        path = f"shocks[{index}]"
        control_type: ControlType | None = None
        try:
            control_type = parse_enum(ControlType, item.type, f"{path}.type")
        except InvalidRequest as exc:
            errors.update(exc.errors)
        if not _is_int_between(item.intensity, MIN_INTENSITY, MAX_INTENSITY):
            errors[f"{path}.intensity"] = [f"must be {MIN_INTENSITY}..{MAX_INTENSITY}"]
        if not _is_int_between(item.duration, MIN_DURATION, MAX_DURATION):
            errors[f"{path}.duration"] = [f"must be {MIN_DURATION}..{MAX_DURATION} ms"]
        if control_type is not None:
            checked.append(
                _Checked(
                    item.shocker_id,
                    control_type,
                    item.intensity,
                    item.duration,
                    bool(item.exclusive),
                )
            )
    if errors:
        first = next(iter(errors))
        raise InvalidRequest(f"{first}: {errors[first][0]}", errors=errors)
    seen: set[UUID] = set()
    distinct = []
    for one in checked:
        if one.shocker_id not in seen:
            seen.add(one.shocker_id)
            distinct.append(one)
    return distinct


def _record(
    uow: UnitOfWork,
    command: ControlShockers | ControlThroughShareLink,
    decided: list[_Decided],
    controlled_by: str | None,
    custom_name: str | None,
    share_link_id: str | None,
) -> list[UUID]:
    meta = command.context.as_metadata()
    request_id = str(uuid4())
    per_hub = Counter(one.shocker.hub_id for one in decided)
    ids = []
    for one in decided:
        sent = ShockerCommand(
            request_id=request_id,
            shocker_id=str(one.shocker.id),
            shocker_name=one.shocker.name,
            hub_id=one.shocker.hub_id,
            owner_id=one.shocker.owner_id,
            rf_id=one.shocker.rf_id,
            model=one.shocker.model,
            type=one.item.type.value,
            intensity=one.intensity,
            duration=one.duration,
            exclusive=one.item.exclusive,
            controlled_by=controlled_by,
            custom_name=custom_name,
            share_link_id=share_link_id,
            meta=meta,
            hub_items=per_hub[one.shocker.hub_id],
        )
        uow.add(sent)
        ids.append(sent.id)
    return ids


def _checked_optional_name(name: str | None, path: str, longest: int) -> str | None:
    if name is None:
        return None
    name = name.strip()
    if len(name) > longest:
        raise invalid(path, f"must be at most {longest} characters")
    return name or None


def _is_int_between(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _not_found(item: _Checked) -> ControlNotFound:
    return ControlNotFound(f"Shocker {item.shocker_id} not found", shockerId=str(item.shocker_id))


def _paused(item: _Checked) -> ControlPaused:
    return ControlPaused(f"Shocker {item.shocker_id} is paused", shockerId=str(item.shocker_id))


def _no_permission(item: _Checked) -> ControlNoPermission:
    return ControlNoPermission(
        f"You don't have permission to control shocker {item.shocker_id}",
        shockerId=str(item.shocker_id),
    )


HANDLERS = {
    ControlShockers: control_shockers,
    ControlThroughShareLink: control_through_share_link,
}
