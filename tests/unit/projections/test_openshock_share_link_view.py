"""The openshock_share_links view: an owner's live links and a link as anyone sees it."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from domain.openshock.commands import (
    AddShockerToShareLink,
    CreateShareLink,
    DeleteShareLink,
    EditShareLinkShocker,
    PauseShareLinkShocker,
    PauseShocker,
    RemoveShocker,
    RemoveShockerFromShareLink,
)
from domain.openshock.values import PauseReason, ShareLimits, SharePermissions
from projections.openshock_share_link_view import share_link, share_links_of
from tests.unit.domain.openshock.world import ALICE, NOW, context, session
from tests.unit.projections.openshock_world import LoggedWorld, add_hub, add_shocker, people

LATER = NOW + timedelta(days=1)


def new_link(world: LoggedWorld, name: str, expires: timedelta | None = None) -> UUID:
    link: UUID = world.run(
        CreateShareLink(
            caller=session(),
            name=name,
            expires_at=None if expires is None else NOW + expires,
            now=NOW,
            context=context(),
        )
    )
    return link


def add(world: LoggedWorld, link: UUID, shocker: UUID) -> None:
    world.run(
        AddShockerToShareLink(
            caller=session(), share_link_id=link, shocker_id=shocker, now=NOW, context=context()
        )
    )


def test_an_owner_lists_the_links_that_have_not_expired() -> None:
    world = people()
    forever = new_link(world, "Forever")
    short = new_link(world, "Short", timedelta(hours=1))
    gone = new_link(world, "Gone")
    world.run(DeleteShareLink(caller=session(), share_link_id=gone, now=NOW, context=context()))
    world.apply()
    listed = share_links_of(world.tx, str(ALICE), NOW)
    assert [(link.id, link.name) for link in listed] == [
        (str(forever), "Forever"),
        (str(short), "Short"),
    ]
    assert listed[0].expires_on is None
    assert listed[1].expires_on == NOW + timedelta(hours=1)
    assert [link.name for link in share_links_of(world.tx, str(ALICE), LATER)] == ["Forever"]
    assert share_link(world.tx, str(short), LATER) is None
    assert share_link(world.tx, str(gone), NOW) is None
    # The public read: an expired link is still shown, a deleted one is not.
    shown = share_link(world.tx, str(short), None)
    assert shown is not None and shown.link.expires_on == NOW + timedelta(hours=1)
    assert share_link(world.tx, str(gone), None) is None


def test_a_link_shows_its_author_and_shockers_by_hub_with_rights_and_pauses() -> None:
    world = people()
    home, away = add_hub(world, "Home"), add_hub(world, "Away")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, away, "Leg")
    tail = add_shocker(world, home, "Tail")
    link = new_link(world, "Party")
    for shocker in (collar, leg, tail):
        add(world, link, shocker)
    world.run(
        EditShareLinkShocker(
            caller=session(),
            share_link_id=link,
            shocker_id=leg,
            permissions=SharePermissions(shock=False, live=True),
            limits=ShareLimits(intensity=25, duration=None),
            cooldown=1000,
            now=NOW,
            context=context(),
        )
    )
    world.run(
        PauseShareLinkShocker(
            caller=session(),
            share_link_id=link,
            shocker_id=collar,
            paused=True,
            now=NOW,
            context=context(),
        )
    )
    world.run(PauseShocker(caller=session(), shocker_id=collar, paused=True, context=context()))
    world.run(PauseShocker(caller=session(), shocker_id=leg, paused=True, context=context()))
    world.run(
        RemoveShockerFromShareLink(
            caller=session(), share_link_id=link, shocker_id=tail, now=NOW, context=context()
        )
    )
    world.apply()

    found = share_link(world.tx, str(link), NOW)
    assert found is not None
    assert (found.link.name, found.link.owner_id, found.author.name) == (
        "Party",
        str(ALICE),
        "Alice",
    )
    assert [(hub.name, [s.name for s in hub.shockers]) for hub in found.hubs] == [
        ("Home", ["Collar"]),
        ("Away", ["Leg"]),
    ]
    (collar_entry,), (leg_entry,) = (hub.shockers for hub in found.hubs)
    # What a newly added shocker gets: everything but live, no caps, no cooldown.
    assert (collar_entry.permissions, collar_entry.limits, collar_entry.cooldown) == (
        SharePermissions(),
        ShareLimits(),
        None,
    )
    assert collar_entry.pause_reason == PauseReason.SHOCKER | PauseReason.SHARE_LINK
    assert (leg_entry.permissions, leg_entry.limits, leg_entry.cooldown) == (
        SharePermissions(shock=False, live=True),
        ShareLimits(intensity=25),
        1000,
    )
    assert leg_entry.pause_reason == PauseReason.SHOCKER


def test_a_deleted_shocker_leaves_its_links_and_a_batch_ends_where_one_at_a_time_ends() -> None:
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    first, second = new_link(world, "One"), new_link(world, "Two")
    for link in (first, second):
        add(world, link, collar)
        add(world, link, leg)
    world.run(RemoveShocker(caller=session(), shocker_id=collar, context=context()))
    world.run(DeleteShareLink(caller=session(), share_link_id=second, now=NOW, context=context()))
    world.apply()
    found = share_link(world.tx, str(first), NOW)
    assert found is not None and [s.name for h in found.hubs for s in h.shockers] == ["Leg"]
    batched, single = world.replayed(False), world.replayed(True)
    for table in ("view_openshock_share_links", "view_openshock_share_link_shockers"):
        assert batched.table(table) == single.table(table) == world.table(table) != []
