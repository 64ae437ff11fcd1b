"""Control: the real API's order of checks, one event per item, share caps, token scoping."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.openshock.commands import (
    ControlItem,
    ControlShockers,
    PauseShocker,
    PauseUserShares,
)
from domain.openshock.control import ShockerCommand
from domain.openshock.errors import (
    ControlNoPermission,
    ControlNotFound,
    ControlPaused,
    InvalidRequest,
    PermissionMissing,
    TokenPaused,
)
from domain.openshock.shocker import Shocker
from domain.openshock.values import (
    Caller,
    LimitMode,
    Permission,
    ShareLimits,
    SharePermissions,
    ShockerControl,
    ValueRange,
)
from tests.unit.domain.openshock.world import (
    ALICE,
    BOB,
    NOW,
    add_hub,
    add_shocker,
    context,
    new_world,
    pending,
    session,
    token,
)
from tests.unit.fakes import MemoryUnitOfWork

World = tuple[MemoryUnitOfWork, UUID, UUID]


def item(shocker_id: UUID, **changes: Any) -> ControlItem:
    fields: dict[str, Any] = {"type": "Shock", "intensity": 50, "duration": 1000}
    fields.update(changes)
    return ControlItem(shocker_id=shocker_id, **fields)


def control(
    uow: MemoryUnitOfWork,
    *items: ControlItem,
    caller: Caller | None = None,
    name: str | None = None,
) -> list[UUID]:
    caller = caller or session()
    ids: list[UUID] = uow.run(
        ControlShockers(
            caller=caller,
            items=items,
            custom_name=name,
            context=context(caller.user_id),
        )
    )
    return ids


def sent(uow: MemoryUnitOfWork) -> list[ShockerCommand]:
    return [a for a in uow.aggregates.values() if isinstance(a, ShockerCommand)]


def share(uow: MemoryUnitOfWork, shocker_id: UUID, **kwargs: Any) -> None:
    shocker = uow.get(Shocker, shocker_id)
    assert shocker is not None
    shocker.share_with(
        str(BOB),
        kwargs.get("permissions", SharePermissions()),
        kwargs.get("limits", ShareLimits()),
        paused=kwargs.get("paused", False),
        at=NOW,
        meta={},
    )


@pytest.fixture
def world() -> World:
    uow = new_world()
    hub_id = add_hub(uow)
    return uow, hub_id, add_shocker(uow, hub_id, rf_id=4321)


def test_each_item_is_one_event_with_what_a_hub_needs(world: World) -> None:
    uow, hub_id, shocker_id = world
    other = add_shocker(uow, hub_id, rf_id=7)
    pending(uow)
    ids = control(
        uow,
        item(shocker_id, type="vibrate", intensity=30, duration=300, exclusive=True),
        item(other, type=0, intensity=0, duration=65535),
        item(shocker_id, type="Shock"),  # a repeated id: only its first item counts
        name="Remote",
    )
    assert len(ids) == 2
    events = pending(uow)
    assert [type(e).__qualname__ for e in events] == ["ShockerCommand.Sent"] * 2
    first = uow.aggregates[ids[0]]
    assert isinstance(first, ShockerCommand)
    assert (
        first.hub_id,
        first.rf_id,
        first.model,
        first.type,
        first.intensity,
        first.duration,
        first.exclusive,
    ) == (str(hub_id), 4321, "CaiXianlin", "Vibrate", 30, 300, True)
    assert first.controlled_by == str(ALICE) and first.custom_name == "Remote"
    assert first.owner_id == str(ALICE) and first.shocker_name == "Collar"
    second = uow.aggregates[ids[1]]
    assert isinstance(second, ShockerCommand) and second.type == "Stop"
    assert first.request_id == second.request_id
    meta = events[0].meta  # type: ignore[attr-defined]
    assert (meta["actor_id"], meta["credential_id"], meta["source_address"]) == (
        str(ALICE),
        "session-1",
        "10.0.0.9",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"intensity": 101}, "shocks[1].intensity"),
        ({"intensity": -1}, "shocks[1].intensity"),
        ({"duration": 299}, "shocks[1].duration"),
        ({"duration": 65536}, "shocks[1].duration"),
        ({"type": "Zap"}, "shocks[1].type"),
        ({"type": 4}, "shocks[1].type"),
        ({"intensity": True}, "shocks[1].intensity"),
    ],
)
def test_bad_values_are_refused_before_anything_else(
    world: World, changes: dict[str, Any], field: str
) -> None:
    uow, _, shocker_id = world
    pending(uow)
    # The unknown shocker comes first, yet validation answers: it runs before any lookup.
    with pytest.raises(InvalidRequest) as refused:
        control(uow, item(uuid4()), item(shocker_id, **changes))
    assert refused.value.code == "Validation.Error"
    assert list(refused.value.errors) == [field]
    assert pending(uow) == [] and sent(uow) == []


def test_the_first_refused_item_records_nothing(world: World) -> None:
    uow, _, shocker_id = world
    missing = uuid4()
    pending(uow)
    with pytest.raises(ControlNotFound) as refused:
        control(uow, item(shocker_id), item(missing))
    assert refused.value.code == "Shocker.Control.NotFound"
    assert refused.value.extensions == {"shockerId": str(missing)}
    assert pending(uow) == [] and sent(uow) == []


def test_another_users_shocker_is_not_found_not_forbidden(world: World) -> None:
    uow, _, shocker_id = world
    with pytest.raises(ControlNotFound):
        control(uow, item(shocker_id), caller=session(BOB))


def test_a_paused_shocker_is_refused_for_owner_and_share(world: World) -> None:
    uow, _, shocker_id = world
    share(uow, shocker_id)
    uow.run(PauseShocker(caller=session(), shocker_id=shocker_id, paused=True, context=context()))
    for caller in (session(), session(BOB)):
        with pytest.raises(ControlPaused) as refused:
            control(uow, item(shocker_id), caller=caller)
        assert refused.value.code == "Shocker.Control.Paused"
    uow.run(PauseShocker(caller=session(), shocker_id=shocker_id, paused=False, context=context()))
    uow.run(
        PauseUserShares(
            caller=session(), user_id=BOB, shocker_ids=(shocker_id,), paused=True, context=context()
        )
    )
    control(uow, item(shocker_id))  # the owner is not held by a share's pause
    with pytest.raises(ControlPaused):
        control(uow, item(shocker_id), caller=session(BOB))


def test_paused_comes_before_permission(world: World) -> None:
    uow, _, shocker_id = world
    share(uow, shocker_id, permissions=SharePermissions(shock=False), paused=True)
    with pytest.raises(ControlPaused):
        control(uow, item(shocker_id, type="Shock"), caller=session(BOB))


def test_a_share_without_shock_permission(world: World) -> None:
    uow, _, shocker_id = world
    share(uow, shocker_id, permissions=SharePermissions(shock=False, vibrate=True, sound=False))
    pending(uow)
    with pytest.raises(ControlNoPermission) as refused:
        control(uow, item(shocker_id, type="Shock"), caller=session(BOB))
    assert refused.value.code == "Shocker.Control.NoPermission"
    assert pending(uow) == []
    control(uow, item(shocker_id, type="Vibrate"), caller=session(BOB))
    control(uow, item(shocker_id, type="Stop"), caller=session(BOB))  # stop: any right will do


def test_stop_needs_some_right(world: World) -> None:
    uow, _, shocker_id = world
    share(uow, shocker_id, permissions=SharePermissions(shock=False, vibrate=False, sound=False))
    with pytest.raises(ControlNoPermission):
        control(uow, item(shocker_id, type="Stop"), caller=session(BOB))


def test_share_limits_clamp_silently_and_null_is_no_cap(world: World) -> None:
    uow, _, shocker_id = world
    share(uow, shocker_id, limits=ShareLimits(intensity=25, duration=None))
    [sent_id] = control(uow, item(shocker_id, intensity=80, duration=60000), caller=session(BOB))
    command = uow.aggregates[sent_id]
    assert isinstance(command, ShockerCommand)
    assert (command.intensity, command.duration, command.controlled_by) == (25, 60000, str(BOB))


def test_a_token_without_shockers_use(world: World) -> None:
    uow, _, shocker_id = world
    caller = token(Permission.SHOCKERS_EDIT, Permission.DEVICES_EDIT)
    # Permission comes before validation: even a bad body is answered 403.
    with pytest.raises(PermissionMissing) as refused:
        control(uow, item(shocker_id, intensity=101), caller=caller)
    assert refused.value.code == "Authorization.Token.PermissionMissing"
    assert refused.value.extensions["requiredPermission"] == "shockers.use"
    assert refused.value.extensions["grantedPermissions"] == ["devices.edit", "shockers.edit"]


def test_a_paused_token_after_validation_before_lookup(world: World) -> None:
    uow, _, _ = world
    caller = token(Permission.SHOCKERS_USE, control=ShockerControl(paused=True))
    with pytest.raises(InvalidRequest):
        control(uow, item(uuid4(), duration=299), caller=caller)
    with pytest.raises(TokenPaused) as refused:
        control(uow, item(uuid4()), caller=caller)
    assert refused.value.code == "ApiToken.Paused"
    assert sent(uow) == []


def test_token_scoping_then_share_caps(world: World) -> None:
    uow, _, shocker_id = world
    share(uow, shocker_id, limits=ShareLimits(intensity=40, duration=2000))
    scoping = ShockerControl(
        intensity=ValueRange(20, 80, LimitMode.LERP), duration=ValueRange(1000, 5000)
    )
    caller = token(Permission.SHOCKERS_USE, control=scoping, user=BOB)
    [sent_id] = control(uow, item(shocker_id, intensity=50, duration=300), caller=caller)
    command = uow.aggregates[sent_id]
    assert isinstance(command, ShockerCommand)
    # Lerp 50 onto [20, 80] is 50, then the share caps it at 40; duration clamps up to 1000.
    assert (command.intensity, command.duration) == (40, 1000)


@pytest.mark.parametrize(
    ("low", "high", "mode", "value", "expected"),
    [
        # The real API's own cases (Common.Tests ApiTokenControlLimitsTests).
        (0, 100, LimitMode.CLAMP, 100, 100),
        (0, 50, LimitMode.CLAMP, 100, 50),
        (0, 50, LimitMode.CLAMP, 30, 30),
        (20, 80, LimitMode.CLAMP, 0, 20),
        (0, 50, LimitMode.LERP, 0, 0),
        (0, 50, LimitMode.LERP, 100, 50),
        (0, 50, LimitMode.LERP, 50, 25),
        (20, 80, LimitMode.LERP, 0, 20),
        (20, 80, LimitMode.LERP, 100, 80),
        (20, 80, LimitMode.LERP, 50, 50),
        # Halves round away from zero: 0.5 -> 1, 2.5 -> 3 (banker's rounding would give 0, 2).
        (0, 50, LimitMode.LERP, 1, 1),
        (0, 50, LimitMode.LERP, 5, 3),
        (0, 10, LimitMode.LERP, 25, 3),
        (0, 10, LimitMode.LERP, 24, 2),
    ],
)
def test_intensity_clamp_and_lerp(
    low: int, high: int, mode: LimitMode, value: int, expected: int
) -> None:
    scoping = ShockerControl(intensity=ValueRange(low, high, mode))
    assert scoping.apply_intensity(value) == expected


@pytest.mark.parametrize(
    ("low", "high", "mode", "value", "expected"),
    [
        (300, 65535, LimitMode.CLAMP, 1000, 1000),
        (300, 1000, LimitMode.CLAMP, 5000, 1000),
        (300, 1000, LimitMode.CLAMP, 700, 700),
        (1000, 5000, LimitMode.LERP, 300, 1000),
        (1000, 5000, LimitMode.LERP, 65535, 5000),
        (1000, 5000, LimitMode.LERP, (300 + 65535) // 2, 3000),
    ],
)
def test_duration_clamp_and_lerp(
    low: int, high: int, mode: LimitMode, value: int, expected: int
) -> None:
    scoping = ShockerControl(duration=ValueRange(low, high, mode))
    assert scoping.apply_duration(value) == expected


def test_a_custom_name_is_at_most_64_characters(world: World) -> None:
    uow, _, shocker_id = world
    with pytest.raises(InvalidRequest):
        control(uow, item(shocker_id), name="x" * 65)
