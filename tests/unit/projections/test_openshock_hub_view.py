"""The openshock_hubs view: a user's hubs with their shockers, and lookups that name the owner."""

from __future__ import annotations

from domain.openshock.commands import (
    DeleteHub,
    EditShocker,
    PauseShocker,
    RemoveShocker,
    RenameHub,
)
from projections.openshock_hub_view import (
    hub_by_id,
    hubs_of,
    hubs_with_shockers,
    own_hub,
    own_shocker,
    shocker_by_id,
    shockers_of_hub,
)
from tests.unit.domain.openshock.world import ALICE, BOB, NOW, context, session
from tests.unit.projections.openshock_world import add_hub, add_shocker, people


def test_a_users_hubs_list_their_shockers_and_follow_renames_moves_and_pauses() -> None:
    world = people()
    home = add_hub(world, "Home")
    away = add_hub(world, "Away")
    bobs = add_hub(world, "Bob's", BOB)
    collar = add_shocker(world, home, "Collar", 10)
    leg = add_shocker(world, home, "Leg", 11)
    world.apply()
    hubs = hubs_of(world.tx, str(ALICE))
    assert [(h.name, h.owner_id) for h in hubs] == [("Home", str(ALICE)), ("Away", str(ALICE))]
    # Stamped with the time its event was written (the world's records are a second apart).
    created = next(r for r in world.records if r.type == "Hub.Created")
    assert hubs[0].created_on == created.timestamp > NOW

    world.run(RenameHub(caller=session(), hub_id=home, name="House", context=context()))
    world.run(
        EditShocker(
            caller=session(),
            shocker_id=leg,
            hub_id=away,
            name="Left leg",
            rf_id=12,
            model="CaiXianlin",
            context=context(),
        )
    )
    world.run(PauseShocker(caller=session(), shocker_id=collar, paused=True, context=context()))
    world.apply()

    listing = hubs_with_shockers(world.tx, str(ALICE))
    assert [
        (h.hub.name, [(s.name, s.rf_id, s.model, s.is_paused) for s in h.shockers]) for h in listing
    ] == [
        ("House", [("Collar", 10, "PetTrainer", True)]),
        ("Away", [("Left leg", 12, "CaiXianlin", False)]),
    ]
    assert [s.id for s in shockers_of_hub(world.tx, str(away))] == [str(leg)]
    assert [h.id for h in hubs_of(world.tx, str(BOB))] == [str(bobs)]
    assert shockers_of_hub(world.tx, str(home))[0].created_on > created.timestamp


def test_lookups_by_id_name_the_owner_so_another_users_hub_reads_as_missing() -> None:
    world = people()
    home = add_hub(world, "Home")
    collar = add_shocker(world, home, "Collar")
    world.apply()
    found = hub_by_id(world.tx, str(home))
    assert found is not None and found.owner_id == str(ALICE)
    assert own_hub(world.tx, str(ALICE), str(home)) == found
    assert own_hub(world.tx, str(BOB), str(home)) is None
    assert own_hub(world.tx, str(ALICE), "no-such-hub") is None
    shocker = shocker_by_id(world.tx, str(collar))
    assert shocker is not None and (shocker.hub_id, shocker.owner_id) == (str(home), str(ALICE))
    assert own_shocker(world.tx, str(BOB), str(collar)) is None
    assert own_shocker(world.tx, str(ALICE), str(collar)) == shocker


def test_deleting_a_shocker_or_a_hub_leaves_no_row() -> None:
    world = people()
    home = add_hub(world, "Home")
    away = add_hub(world, "Away")
    collar = add_shocker(world, home, "Collar")
    add_shocker(world, away, "Leg")
    world.run(RemoveShocker(caller=session(), shocker_id=collar, context=context()))
    world.run(DeleteHub(caller=session(), hub_id=away, context=context()))
    world.apply()
    assert shocker_by_id(world.tx, str(collar)) is None
    assert [h.hub.name for h in hubs_with_shockers(world.tx, str(ALICE))] == ["Home"]
    assert world.table("view_openshock_shockers") == []


def test_a_batch_ends_where_one_record_at_a_time_ends() -> None:
    world = people()
    home = add_hub(world, "Home")
    collar = add_shocker(world, home, "Collar")
    add_shocker(world, home, "Leg")
    world.run(RenameHub(caller=session(), hub_id=home, name="House", context=context()))
    world.run(PauseShocker(caller=session(), shocker_id=collar, paused=True, context=context()))
    world.run(RemoveShocker(caller=session(), shocker_id=collar, context=context()))
    batched, single = world.replayed(False), world.replayed(True)
    for table in ("view_openshock_hubs", "view_openshock_shockers"):
        assert batched.table(table) == single.table(table) != []
