"""The openshock_share_offers view: live share codes and pending invites, nothing else."""

from __future__ import annotations

from uuid import UUID

from domain.openshock.commands import (
    AcceptShareInvite,
    CancelShareInvite,
    CreateShareCode,
    DeleteShareCode,
    DenyShareInvite,
    InvitedShocker,
    RedeemShareCode,
    RemoveShocker,
    SendShareInvite,
)
from domain.openshock.values import ShareLimits, SharePermissions
from projections.openshock_offer_view import (
    incoming_invites,
    outgoing_invites,
    share_codes_of_shocker,
)
from tests.unit.domain.openshock.world import ALICE, BOB, NOW, context, session
from tests.unit.projections.openshock_world import CAROL, LoggedWorld, add_hub, add_shocker, people

NO_SHOCK = SharePermissions(shock=False)
CAPPED = ShareLimits(intensity=30, duration=2000)


def new_code(world: LoggedWorld, shocker_id: UUID) -> UUID:
    code: UUID = world.run(
        CreateShareCode(
            caller=session(),
            shocker_id=shocker_id,
            permissions=SharePermissions(),
            limits=ShareLimits(),
            context=context(),
        )
    )
    return code


def invite(world: LoggedWorld, recipient: UUID | None, *shocker_ids: UUID) -> UUID:
    invite_id: UUID = world.run(
        SendShareInvite(
            caller=session(),
            recipient_id=recipient,
            shockers=tuple(
                InvitedShocker(shocker_id=s, permissions=NO_SHOCK, limits=CAPPED)
                for s in shocker_ids
            ),
            context=context(),
        )
    )
    return invite_id


def test_share_codes_are_listed_until_redeemed_or_deleted() -> None:
    world = people()
    collar = add_shocker(world, add_hub(world, "Home"), "Collar")
    first, second, third = (new_code(world, collar) for _ in range(3))
    world.apply()
    listed = share_codes_of_shocker(world.tx, str(collar))
    assert [c.id for c in listed] == [str(first), str(second), str(third)]
    assert listed[0].created_on > NOW
    world.run(
        RedeemShareCode(caller=session(BOB), share_code_id=first, now=NOW, context=context(BOB))
    )
    world.run(DeleteShareCode(caller=session(), share_code_id=third, context=context()))
    world.apply()
    assert [c.id for c in share_codes_of_shocker(world.tx, str(collar))] == [str(second)]


def test_pending_invites_are_listed_to_sender_and_recipient_with_their_shockers() -> None:
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    to_bob = invite(world, BOB, leg, collar)
    to_anyone = invite(world, None, collar)
    world.apply()

    sent = outgoing_invites(world.tx, str(ALICE))
    assert [i.id for i in sent] == [str(to_bob), str(to_anyone)]
    assert sent[0].owner.name == "Alice"
    assert sent[0].shared_with is not None and sent[0].shared_with.name == "Bob"
    assert [(s.name, s.permissions, s.limits) for s in sent[0].shockers] == [
        ("Leg", NO_SHOCK, CAPPED),
        ("Collar", NO_SHOCK, CAPPED),
    ]
    # An open invite has no recipient, and is nobody's incoming invite.
    assert sent[1].shared_with is None
    assert [i.id for i in incoming_invites(world.tx, str(BOB))] == [str(to_bob)]
    assert incoming_invites(world.tx, str(CAROL)) == []

    # A deleted shocker leaves the invites it was in.
    world.run(RemoveShocker(caller=session(), shocker_id=collar, context=context()))
    world.apply()
    assert [s.name for s in outgoing_invites(world.tx, str(ALICE))[0].shockers] == ["Leg"]


def test_accepted_denied_and_cancelled_invites_are_gone() -> None:
    world = people()
    collar = add_shocker(world, add_hub(world, "Home"), "Collar")
    accepted, denied, cancelled = (
        invite(world, BOB, collar),
        invite(world, BOB, collar),
        invite(world, CAROL, collar),
    )
    kept = invite(world, CAROL, collar)
    world.run(
        AcceptShareInvite(caller=session(BOB), invite_id=accepted, now=NOW, context=context(BOB))
    )
    world.run(DenyShareInvite(caller=session(BOB), invite_id=denied, context=context(BOB)))
    world.run(CancelShareInvite(caller=session(), invite_id=cancelled, context=context()))
    world.apply()
    assert [i.id for i in outgoing_invites(world.tx, str(ALICE))] == [str(kept)]
    assert incoming_invites(world.tx, str(BOB)) == []
    assert len(world.table("view_openshock_invite_shockers")) == 1


def test_a_batch_ends_where_one_record_at_a_time_ends() -> None:
    world = people()
    home = add_hub(world, "Home")
    collar, leg = add_shocker(world, home, "Collar"), add_shocker(world, home, "Leg")
    new_code(world, collar)
    new_code(world, leg)
    invite(world, BOB, collar, leg)
    # A shocker deleted in the same batch as the code and invite made for it.
    world.run(RemoveShocker(caller=session(), shocker_id=collar, context=context()))
    new_code(world, leg)
    batched, single = world.replayed(False), world.replayed(True)
    for table in (
        "view_openshock_share_codes",
        "view_openshock_invites",
        "view_openshock_invite_shockers",
    ):
        assert batched.table(table) == single.table(table) != []
    assert len(batched.table("view_openshock_share_codes")) == 2
