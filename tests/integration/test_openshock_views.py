"""The OpenShock views on SQLite and PostgreSQL, applied by the projection runner exactly once:
each family's queries answer there what they answer over the unit tests' in-memory SQLite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

from domain.openshock.commands import (
    AddShockerToShareLink,
    ControlItem,
    ControlShockers,
    ControlThroughShareLink,
    CreateShareLink,
    EditShareLinkShocker,
    PauseShocker,
    PauseUserShares,
    RemoveShocker,
    RenameHub,
)
from domain.openshock.values import ShareLimits, SharePermissions
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase
from projections import (
    openshock_control_log_view as logs,
)
from projections import (
    openshock_hub_view as hubs,
)
from projections import (
    openshock_offer_view as offers,
)
from projections import (
    openshock_share_link_view as links,
)
from projections import (
    openshock_share_view as shares,
)
from projections.openshock_views import openshock_views
from projections.user_view import UserView
from projections.view_store import ViewTransaction
from tests.integration.running import settings_for
from tests.unit.domain.openshock.world import ALICE, BOB, NOW, context, session
from tests.unit.projections.openshock_world import CAROL, LoggedWorld, add_hub, add_shocker, people
from tests.unit.projections.test_openshock_offer_view import invite, new_code
from tests.unit.projections.test_openshock_share_view import share_by_code, share_by_invite

Query = Callable[[ViewTransaction], Any]


@contextmanager
def _applied(deployment: dict[str, str], world: LoggedWorld) -> Iterator[ViewDatabase]:
    """The world's log applied by a runner in two overlapping deliveries (a relay's re-send),
    and to the world's own in-memory database."""
    views = ViewDatabase(settings_for(deployment))
    try:
        runner = ProjectionRunner(views, [UserView(), *openshock_views()])
        records = world.records
        runner.apply(records[: len(records) // 2])
        # The first half again, changed: skipped by position, so its change must not show.
        again = [r._replace(payload={**r.payload, "name": "resent"}) for r in records]
        runner.apply(again[: len(records) // 2] + records[len(records) // 2 :])
        world.apply()
        yield views
    finally:
        views.close()


def _same_answers(views: ViewDatabase, world: LoggedWorld, queries: list[Query]) -> None:
    with views.transaction(write=False) as tx:
        answers = [query(tx) for query in queries]
    assert answers == [query(world.tx) for query in queries]
    assert all(answers), "each query should answer something"
    assert "resent" not in repr(answers)


def test_hubs_and_shockers(deployment: dict[str, str]) -> None:
    world = people()
    home, away = add_hub(world, "Home"), add_hub(world, "Away")
    collar = add_shocker(world, home, "Collar", 7)
    add_shocker(world, away, "Leg", 8)
    gone = add_shocker(world, away, "Gone", 9)
    world.run(RenameHub(caller=session(), hub_id=away, name="Garden", context=context()))
    world.run(PauseShocker(caller=session(), shocker_id=collar, paused=True, context=context()))
    world.run(RemoveShocker(caller=session(), shocker_id=gone, context=context()))
    with _applied(deployment, world) as views:
        _same_answers(
            views,
            world,
            [
                lambda tx: hubs.hubs_with_shockers(tx, str(ALICE)),
                lambda tx: hubs.own_hub(tx, str(ALICE), str(away)),
                lambda tx: hubs.own_hub(tx, str(BOB), str(away)) is None,
                lambda tx: hubs.own_shocker(tx, str(ALICE), str(collar)),
                lambda tx: hubs.shocker_by_id(tx, str(gone)) is None,
            ],
        )


def test_user_shares(deployment: dict[str, str]) -> None:
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    share_by_invite(world, [collar, leg], BOB)
    share_by_code(world, collar, CAROL, SharePermissions(shock=False))
    world.run(
        PauseUserShares(
            caller=session(), user_id=BOB, shocker_ids=(leg,), paused=True, context=context()
        )
    )
    with _applied(deployment, world) as views:
        _same_answers(
            views,
            world,
            [
                lambda tx: shares.shared_with(tx, str(BOB)),
                lambda tx: shares.outgoing_shares(tx, str(ALICE)),
                lambda tx: shares.incoming_shares(tx, str(CAROL)),
                lambda tx: shares.shares_of_shocker(tx, str(collar)),
            ],
        )


def test_control_logs(deployment: dict[str, str]) -> None:
    world = people()
    home, away = add_hub(world, "Home"), add_hub(world, "Away")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, away, "Leg")
    share_by_invite(world, [collar], BOB)
    for n, user in enumerate((ALICE, BOB, ALICE, ALICE)):
        world.run(
            ControlShockers(
                caller=session(user),
                items=(
                    ControlItem(shocker_id=collar, type="Shock", intensity=10 + n, duration=900),
                    *(
                        (ControlItem(shocker_id=leg, type="Sound", intensity=60 - n, duration=300),)
                        if user == ALICE
                        else ()
                    ),
                ),
                custom_name="bot" if n == 2 else None,
                context=context(user),
            )
        )
    link: UUID = world.run(
        CreateShareLink(caller=session(), name="Party", expires_at=None, now=NOW, context=context())
    )
    world.run(
        AddShockerToShareLink(
            caller=session(), share_link_id=link, shocker_id=leg, now=NOW, context=context()
        )
    )
    world.run(
        ControlThroughShareLink(
            share_link_id=link,
            user_id=None,
            guest_name="Zed",
            items=(ControlItem(shocker_id=leg, type="Vibrate", intensity=5, duration=400),),
            now=NOW,
            context=context(),
        )
    )
    page = logs.LogPageQuery
    with _applied(deployment, world) as views:
        _same_answers(
            views,
            world,
            [
                lambda tx: logs.shocker_logs(tx, str(collar), offset=1, limit=2),
                lambda tx: logs.owner_logs(tx, str(ALICE), page(page=2, page_size=3)),
                lambda tx: logs.owner_logs(tx, str(ALICE), page(sort="type", descending=False)),
                lambda tx: logs.owner_logs(tx, str(ALICE), page(sort="hubName")),
                lambda tx: logs.owner_logs(tx, str(ALICE), page(sort="intensity")),
                lambda tx: logs.owner_logs(tx, str(ALICE), page(shocker_ids=(str(leg),))),
            ],
        )
        with views.transaction(write=False) as tx:
            newest = logs.shocker_logs(tx, str(leg), limit=1)
        assert [(log.controlled_by.name, log.controlled_by.custom_name) for log in newest] == [
            ("Guest", "Zed")
        ]


def test_share_codes_invites_and_links(deployment: dict[str, str]) -> None:
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    new_code(world, collar)
    invite(world, BOB, collar, leg)
    invite(world, None, leg)
    link: UUID = world.run(
        CreateShareLink(
            caller=session(),
            name="Party",
            expires_at=NOW + timedelta(hours=2),
            now=NOW,
            context=context(),
        )
    )
    for shocker in (collar, leg):
        world.run(
            AddShockerToShareLink(
                caller=session(),
                share_link_id=link,
                shocker_id=shocker,
                now=NOW,
                context=context(),
            )
        )
    world.run(
        EditShareLinkShocker(
            caller=session(),
            share_link_id=link,
            shocker_id=leg,
            permissions=SharePermissions(live=True),
            limits=ShareLimits(duration=5000),
            cooldown=700,
            now=NOW,
            context=context(),
        )
    )
    with _applied(deployment, world) as views:
        _same_answers(
            views,
            world,
            [
                lambda tx: offers.share_codes_of_shocker(tx, str(collar)),
                lambda tx: offers.outgoing_invites(tx, str(ALICE)),
                lambda tx: offers.incoming_invites(tx, str(BOB)),
                lambda tx: links.share_links_of(tx, str(ALICE), NOW),
                lambda tx: links.share_link(tx, str(link), NOW + timedelta(hours=1)),
                lambda tx: links.share_link(tx, str(link), NOW + timedelta(hours=2)) is None,
            ],
        )
