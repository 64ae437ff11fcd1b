"""The openshock_control_logs view: a row per control item, per shocker and paged per owner,
bounded per owner as the real API's retention job bounds them."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.openshock.commands import (
    AddShockerToShareLink,
    ControlItem,
    ControlShockers,
    ControlThroughShareLink,
    CreateShareLink,
    EditShocker,
    RemoveShocker,
    RenameHub,
)
from projections import openshock_control_log_view as logs_view
from projections.openshock_control_log_view import LogPageQuery, owner_logs, shocker_logs
from projections.openshock_shapes import GUEST_ID
from tests.unit.domain.openshock.world import ALICE, BOB, NOW, context, session
from tests.unit.projections.openshock_world import LoggedWorld, add_hub, add_shocker, people
from tests.unit.projections.test_openshock_share_view import share_by_invite

_TABLE = "view_openshock_control_logs"


def control(
    world: LoggedWorld,
    *items: tuple[UUID, str, int],
    user: UUID = ALICE,
    name: str | None = None,
) -> None:
    world.run(
        ControlShockers(
            caller=session(user),
            items=tuple(
                ControlItem(shocker_id=s, type=t, intensity=i, duration=1000) for s, t, i in items
            ),
            custom_name=name,
            context=context(user),
        )
    )


def test_each_item_is_a_row_newest_first_with_who_sent_it() -> None:
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    share_by_invite(world, [collar], BOB)
    control(world, (collar, "Shock", 10), (leg, "Vibrate", 20))
    control(world, (collar, "Sound", 30), user=BOB, name="from the app")
    link: UUID = world.run(
        CreateShareLink(caller=session(), name="Party", expires_at=None, now=NOW, context=context())
    )
    world.run(
        AddShockerToShareLink(
            caller=session(), share_link_id=link, shocker_id=collar, now=NOW, context=context()
        )
    )
    world.run(
        ControlThroughShareLink(
            share_link_id=link,
            user_id=None,
            guest_name="Zed",
            now=NOW,
            context=context(),
            items=(ControlItem(shocker_id=collar, type="Vibrate", intensity=40, duration=500),),
        )
    )
    world.apply()

    found = shocker_logs(world.tx, str(collar))
    assert [(log.type, log.intensity, log.duration) for log in found] == [
        ("Vibrate", 40, 500),
        ("Sound", 30, 1000),
        ("Shock", 10, 1000),
    ]
    guest, bob, alice = (log.controlled_by for log in found)
    # A share-link guest is the real API's Guest, with the name they gave.
    assert (guest.id, guest.name, guest.custom_name) == (GUEST_ID, "Guest", "Zed")
    assert (bob.id, bob.name, bob.custom_name) == (str(BOB), "Bob", "from the app")
    assert (alice.id, alice.name, alice.custom_name) == (str(ALICE), "Alice", None)
    assert alice.image != bob.image != guest.image
    assert [log.intensity for log in shocker_logs(world.tx, str(collar), offset=1, limit=1)] == [30]
    assert [(log.shocker_name, log.hub_name) for log in shocker_logs(world.tx, str(leg))] == [
        ("Leg", "Home")
    ]
    assert found[0].created_on > found[1].created_on > found[2].created_on > NOW


def test_the_paged_logs_filter_sort_count_and_show_todays_names() -> None:
    world = people()
    home, away = add_hub(world, "Home"), add_hub(world, "Away")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, away, "Leg")
    bobs = add_shocker(world, add_hub(world, "Bob's", BOB), "Bob's", user=BOB)
    for n in range(5):
        control(world, (collar, "Shock", 10 + n), (leg, "Vibrate", 50 - n))
    control(world, (bobs, "Shock", 99), user=BOB)
    world.run(RenameHub(caller=session(), hub_id=away, name="Garden", context=context()))
    world.run(
        EditShocker(
            caller=session(),
            shocker_id=collar,
            hub_id=away,
            name="Neck",
            rf_id=1,
            model="PetTrainer",
            context=context(),
        )
    )
    world.apply()

    page = owner_logs(world.tx, str(ALICE), LogPageQuery(page=2, page_size=3))
    assert (page.total_count, page.total_pages, page.page, page.page_size) == (10, 4, 2, 3)
    assert [log.intensity for log in page.items] == [13, 48, 12]
    # Names and hubs as they are now: the collar was renamed and moved.
    assert {(log.shocker_name, log.hub_name) for log in page.items} == {
        ("Neck", "Garden"),
        ("Leg", "Garden"),
    }

    ascending = owner_logs(
        world.tx, str(ALICE), LogPageQuery(page_size=4, sort="INTENSITY", descending=False)
    )
    assert [log.intensity for log in ascending.items] == [10, 11, 12, 13]
    by_type = owner_logs(world.tx, str(ALICE), LogPageQuery(page_size=10, sort="type"))
    assert [log.type for log in by_type.items] == ["Vibrate"] * 5 + ["Shock"] * 5

    # Only the caller's shockers count, whatever ids the filter names.
    filtered = owner_logs(
        world.tx, str(ALICE), LogPageQuery(shocker_ids=(str(leg), str(bobs), "nonsense"))
    )
    assert (filtered.total_count, {log.shocker_id for log in filtered.items}) == (5, {str(leg)})
    assert owner_logs(world.tx, str(ALICE), LogPageQuery(shocker_ids=(str(bobs),))).items == []

    # Out-of-range paging is clamped as the real API clamps it; an unknown sort is createdOn.
    beyond = owner_logs(world.tx, str(ALICE), LogPageQuery(page=9, page_size=1000, sort="x"))
    assert (beyond.items, beyond.page_size, beyond.total_count, beyond.total_pages) == (
        [],
        200,
        10,
        1,
    )
    first = owner_logs(world.tx, str(ALICE), LogPageQuery(page=0, page_size=0, sort="x"))
    assert (first.page, first.page_size, [log.intensity for log in first.items]) == (1, 1, [46])
    assert owner_logs(world.tx, str(BOB), LogPageQuery()).total_count == 1


def test_a_deleted_shocker_takes_its_logs() -> None:
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    control(world, (collar, "Shock", 10), (leg, "Shock", 20))
    world.run(RemoveShocker(caller=session(), shocker_id=collar, context=context()))
    control(world, (leg, "Shock", 30))
    world.apply()
    assert shocker_logs(world.tx, str(collar)) == []
    assert owner_logs(world.tx, str(ALICE), LogPageQuery()).total_count == 2
    assert world.table("view_openshock_control_log_counts") == [(str(ALICE), 2)]


def test_an_owners_logs_are_cut_back_to_the_cap_alike_in_batches_and_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logs_view, "MAX_CONTROL_LOGS_PER_OWNER", 4)
    monkeypatch.setattr(logs_view, "_PRUNE_SLACK", 2)
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    bobs = add_shocker(world, add_hub(world, "Bob's", BOB), "Bob's", user=BOB)
    for n in range(12):
        control(world, (collar, "Shock", n))
        if n == 3:
            control(world, (bobs, "Shock", 90), user=BOB)
        if n == 7:
            world.run(RemoveShocker(caller=session(), shocker_id=leg, context=context()))
        if n < 2:
            control(world, (leg, "Shock", 50 + n))
    batched, single = world.replayed(False), world.replayed(True)
    assert batched.table(_TABLE) == single.table(_TABLE)
    kept = owner_logs(batched.tx, str(ALICE), LogPageQuery(page_size=50))
    # Up to 6 (4 + 2) rows, then cut back to the newest 4: cut at the 7th row (collar 4,
    # leaving 4, 3, 2 and leg 51) and at collar 7 and 10, so 11 to 7 are left.
    assert [log.intensity for log in kept.items] == [11, 10, 9, 8, 7]
    assert kept.total_count == 5
    assert owner_logs(batched.tx, str(BOB), LogPageQuery()).total_count == 1
    assert dict(batched.table("view_openshock_control_log_counts")) == {
        str(ALICE): 5,
        str(BOB): 1,
    }
