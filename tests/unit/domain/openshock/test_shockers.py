"""Shockers: at most 11 per hub, uint16 RF ids, four models, owners only."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.openshock.commands import EditShocker, PauseShocker, RegisterShocker, RemoveShocker
from domain.openshock.errors import (
    HubNotFound,
    InvalidRequest,
    PermissionMissing,
    ShockerNotFound,
    TooManyShockers,
)
from domain.openshock.hub import Hub
from domain.openshock.shocker import Shocker
from domain.openshock.values import Caller, Permission
from tests.unit.domain.openshock.world import (
    BOB,
    add_hub,
    add_shocker,
    context,
    kinds,
    new_world,
    pending,
    session,
    token,
)
from tests.unit.fakes import MemoryUnitOfWork


def _register(
    uow: MemoryUnitOfWork,
    hub_id: UUID,
    rf_id: int = 1,
    model: str | int = "CaiXianlin",
    caller: Caller | None = None,
) -> UUID:
    shocker_id: UUID = uow.run(
        RegisterShocker(
            caller=caller or session(),
            hub_id=hub_id,
            name="S",
            rf_id=rf_id,
            model=model,
            context=context(),
        )
    )
    return shocker_id


def test_a_shocker_is_created_edited_paused_and_deleted_as_events() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    shocker_id = add_shocker(uow, hub_id)
    uow.run(
        EditShocker(
            caller=session(),
            shocker_id=shocker_id,
            hub_id=hub_id,
            name="Leg",
            rf_id=65535,
            model="WellturnT330",
            context=context(),
        )
    )
    assert uow.run(
        PauseShocker(caller=session(), shocker_id=shocker_id, paused=True, context=context())
    )
    uow.run(RemoveShocker(caller=session(), shocker_id=shocker_id, context=context()))
    shocker = uow.get(Shocker, shocker_id)
    assert shocker is not None and shocker.deleted
    assert (shocker.name, shocker.rf_id, shocker.model) == ("Leg", 65535, "WellturnT330")
    assert kinds(shocker.collect_events()) == [
        "Shocker.Created",
        "Shocker.Edited",
        "Shocker.PauseSet",
        "Shocker.Deleted",
    ]
    hub = uow.get(Hub, hub_id)
    assert hub is not None and hub.shockers == []


def test_a_twelfth_shocker_is_refused_and_nothing_changes() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    for rf_id in range(11):
        _register(uow, hub_id, rf_id=rf_id)
    pending(uow)
    with pytest.raises(TooManyShockers) as refused:
        _register(uow, hub_id, rf_id=99)
    assert refused.value.code == "Device.TooManyShockers"
    assert pending(uow) == []


def test_moving_a_shocker_needs_room_on_the_target_hub() -> None:
    uow = new_world()
    full, other = add_hub(uow, hashed="a"), add_hub(uow, hashed="b")
    for rf_id in range(11):
        _register(uow, full, rf_id=rf_id)
    moving = add_shocker(uow, other)

    def move(to: UUID) -> None:
        uow.run(
            EditShocker(
                caller=session(),
                shocker_id=moving,
                hub_id=to,
                name="S",
                rf_id=5,
                model=1,
                context=context(),
            )
        )

    with pytest.raises(TooManyShockers):
        move(full)
    third = add_hub(uow, hashed="c")
    move(third)
    shocker = uow.get(Shocker, moving)
    source, target = uow.get(Hub, other), uow.get(Hub, third)
    assert shocker is not None and shocker.hub_id == str(third) and shocker.model == "PetTrainer"
    assert source is not None and source.shockers == []
    assert target is not None and target.shockers == [str(moving)]


@pytest.mark.parametrize(
    ("rf_id", "model", "field"),
    [
        (-1, "CaiXianlin", "rfId"),
        (65536, "CaiXianlin", "rfId"),
        (1, "Petrainer", "model"),
        (1, 4, "model"),
    ],
)
def test_rf_id_is_uint16_and_the_model_one_of_four(
    rf_id: int, model: str | int, field: str
) -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    with pytest.raises(InvalidRequest) as refused:
        _register(uow, hub_id, rf_id=rf_id, model=model)
    assert list(refused.value.errors) == [field]


@pytest.mark.parametrize("model", ["petrainer998dr", "PetTrainer", 2, 0])
def test_models_by_name_in_any_case_or_by_number(model: str | int) -> None:
    uow = new_world()
    shocker = uow.get(Shocker, _register(uow, add_hub(uow), model=model))
    assert shocker is not None
    assert shocker.model in ("Petrainer998DR", "PetTrainer", "CaiXianlin")


def test_another_users_shocker_or_hub_looks_missing() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    shocker_id = add_shocker(uow, hub_id)
    bobs_hub = add_hub(uow, user=BOB, hashed="bob")
    pending(uow)
    with pytest.raises(HubNotFound):
        _register(uow, hub_id, caller=session(BOB))
    for command in (
        PauseShocker(caller=session(BOB), shocker_id=shocker_id, paused=True, context=context(BOB)),
        RemoveShocker(caller=session(BOB), shocker_id=shocker_id, context=context(BOB)),
        EditShocker(
            caller=session(BOB),
            shocker_id=shocker_id,
            hub_id=bobs_hub,
            name="mine now",
            rf_id=1,
            model=0,
            context=context(BOB),
        ),
    ):
        with pytest.raises(ShockerNotFound) as refused:
            uow.run(command)
        assert refused.value.code == "Shocker.NotFound"
    assert pending(uow) == []


def test_tokens_need_shockers_edit_and_shockers_pause() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    with pytest.raises(PermissionMissing):
        _register(uow, hub_id, caller=token(Permission.SHOCKERS_PAUSE))
    shocker_id = _register(uow, hub_id, caller=token(Permission.SHOCKERS_EDIT))
    with pytest.raises(PermissionMissing):
        uow.run(
            PauseShocker(
                caller=token(Permission.SHOCKERS_EDIT),
                shocker_id=shocker_id,
                paused=True,
                context=context(),
            )
        )
