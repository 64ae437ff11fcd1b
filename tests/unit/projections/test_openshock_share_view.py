"""The openshock_user_shares view: shares from both sides, with the owner's pause and names."""

from __future__ import annotations

from uuid import UUID

from domain.openshock.commands import (
    AcceptShareInvite,
    CreateShareCode,
    InvitedShocker,
    PauseShocker,
    PauseUserShares,
    RedeemShareCode,
    RemoveShocker,
    RemoveUserShares,
    SendShareInvite,
    UpdateUserShares,
)
from domain.openshock.values import PauseReason, ShareLimits, SharePermissions
from projections.openshock_shapes import image_url
from projections.openshock_share_view import (
    incoming_shares,
    outgoing_shares,
    shared_with,
    shares_of_shocker,
)
from tests.unit.domain.openshock.world import ALICE, BOB, NOW, context, session
from tests.unit.projections.openshock_world import (
    CAROL,
    LoggedWorld,
    add_hub,
    add_shocker,
    people,
)

NO_SHOCK = SharePermissions(shock=False)
CAPPED = ShareLimits(intensity=30, duration=None)


def share_by_code(
    world: LoggedWorld, shocker_id: UUID, user: UUID, permissions: SharePermissions
) -> None:
    code: UUID = world.run(
        CreateShareCode(
            caller=session(),
            shocker_id=shocker_id,
            permissions=permissions,
            limits=CAPPED,
            context=context(),
        )
    )
    world.run(
        RedeemShareCode(caller=session(user), share_code_id=code, now=NOW, context=context(user))
    )


def share_by_invite(world: LoggedWorld, shocker_ids: list[UUID], user: UUID) -> None:
    invite: UUID = world.run(
        SendShareInvite(
            caller=session(),
            recipient_id=user,
            shockers=tuple(
                InvitedShocker(shocker_id=s, permissions=SharePermissions(), limits=ShareLimits())
                for s in shocker_ids
            ),
            context=context(),
        )
    )
    world.run(
        AcceptShareInvite(caller=session(user), invite_id=invite, now=NOW, context=context(user))
    )


def test_a_user_sees_what_is_shared_with_them_by_owner_and_hub() -> None:
    world = people()
    home, away = add_hub(world, "Home"), add_hub(world, "Away")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, away, "Leg")
    bobs = add_shocker(world, add_hub(world, "Bob's", BOB), "Bob's collar", user=BOB)
    share_by_code(world, collar, CAROL, NO_SHOCK)
    share_by_invite(world, [leg], CAROL)
    world.run(
        PauseUserShares(
            caller=session(), user_id=CAROL, shocker_ids=(leg,), paused=True, context=context()
        )
    )
    world.run(PauseShocker(caller=session(), shocker_id=collar, paused=True, context=context()))
    # Bob shares his with Carol too, and Alice shares hers with Bob.
    world.run(
        SendShareInvite(
            caller=session(BOB),
            recipient_id=CAROL,
            context=context(BOB),
            shockers=(InvitedShocker(shocker_id=bobs, permissions=NO_SHOCK, limits=CAPPED),),
        )
    )
    share_by_code(world, collar, BOB, SharePermissions())
    world.apply()

    owners = shared_with(world.tx, str(CAROL))
    assert [(o.owner.name, [h.name for h in o.hubs]) for o in owners] == [
        ("Alice", ["Home", "Away"])
    ]
    assert owners[0].owner.id == str(ALICE)
    assert owners[0].owner.image.startswith("https://www.gravatar.com/avatar/")
    collar_share = owners[0].hubs[0].shockers[0]
    assert (collar_share.name, collar_share.permissions, collar_share.limits) == (
        "Collar",
        NO_SHOCK,
        CAPPED,
    )
    # The owner's pause shows as the share's (isPaused), and as its flag (PauseReason).
    assert (collar_share.is_paused, collar_share.pause_reason) == (True, PauseReason.SHOCKER)
    leg_share = owners[0].hubs[1].shockers[0]
    assert (leg_share.is_paused, leg_share.pause_reason) == (True, PauseReason.SHARE)
    assert leg_share.permissions == SharePermissions()


def test_an_owner_sees_outgoing_shares_by_user_and_a_shocker_by_whom_it_is_shared() -> None:
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    share_by_invite(world, [collar, leg], BOB)
    share_by_code(world, collar, CAROL, NO_SHOCK)
    world.apply()

    outgoing = outgoing_shares(world.tx, str(ALICE))
    assert sorted((g.user.name, [s.name for s in g.shares]) for g in outgoing) == [
        ("Bob", ["Collar", "Leg"]),
        ("Carol", ["Collar"]),
    ]
    incoming = incoming_shares(world.tx, str(BOB))
    assert [(g.user.name, len(g.shares)) for g in incoming] == [("Alice", 2)]
    assert incoming_shares(world.tx, str(ALICE)) == []
    shares = shares_of_shocker(world.tx, str(collar))
    assert sorted((s.shared_with.name, s.share.permissions.shock) for s in shares) == [
        ("Bob", True),
        ("Carol", False),
    ]


def test_changes_and_removals_follow_and_a_deleted_shocker_takes_its_shares() -> None:
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    share_by_invite(world, [collar, leg], BOB)
    share_by_invite(world, [collar], CAROL)
    world.run(
        UpdateUserShares(
            caller=session(),
            user_id=BOB,
            shocker_ids=(collar,),
            permissions=NO_SHOCK,
            limits=CAPPED,
            context=context(),
        )
    )
    world.run(
        RemoveUserShares(caller=session(), user_id=BOB, shocker_ids=(leg,), context=context())
    )
    world.apply()
    (bobs,) = incoming_shares(world.tx, str(BOB))
    assert [(s.name, s.permissions, s.limits) for s in bobs.shares] == [
        ("Collar", NO_SHOCK, CAPPED)
    ]

    world.run(RemoveShocker(caller=session(), shocker_id=collar, context=context()))
    world.apply()
    assert shares_of_shocker(world.tx, str(collar)) == []
    assert incoming_shares(world.tx, str(BOB)) == []
    assert world.table("view_openshock_user_shares") == []


def test_sharing_again_keeps_when_the_share_began() -> None:
    world = people()
    collar = add_shocker(world, add_hub(world, "Home"), "Collar")
    share_by_invite(world, [collar], BOB)
    world.apply()
    (first,) = shares_of_shocker(world.tx, str(collar))
    share_by_code(world, collar, CAROL, NO_SHOCK)
    share_by_invite(world, [collar], BOB)
    world.apply()
    again = next(s for s in shares_of_shocker(world.tx, str(collar)) if s.shared_with.name == "Bob")
    assert again.share.created_on == first.share.created_on
    assert again.shared_with.image == first.shared_with.image != image_url("0")


def test_a_batch_ends_where_one_record_at_a_time_ends() -> None:
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    share_by_invite(world, [collar, leg], BOB)
    world.run(
        PauseUserShares(
            caller=session(), user_id=BOB, shocker_ids=(leg,), paused=True, context=context()
        )
    )
    share_by_code(world, leg, CAROL, NO_SHOCK)
    world.run(RemoveShocker(caller=session(), shocker_id=collar, context=context()))
    batched, single = world.replayed(False), world.replayed(True)
    assert batched.table("view_openshock_user_shares") == single.table("view_openshock_user_shares")
    assert len(batched.table("view_openshock_user_shares")) == 2
