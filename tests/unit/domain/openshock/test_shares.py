"""User shares (codes, invites, owner edits) and share links, pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.openshock.commands import (
    AcceptShareInvite,
    AddShockerToShareLink,
    CancelShareInvite,
    ControlItem,
    ControlThroughShareLink,
    CreateShareCode,
    CreateShareLink,
    DeleteShareLink,
    DenyShareInvite,
    EditShareLinkShocker,
    InvitedShocker,
    PauseShareLinkShocker,
    PauseShocker,
    PauseUserShares,
    RedeemShareCode,
    RemoveUserShares,
    SendShareInvite,
    UpdateUserShares,
)
from domain.openshock.control import ShockerCommand
from domain.openshock.errors import (
    CannotShareWithSelf,
    CantLinkOwnShareCode,
    ControlNoPermission,
    ControlNotFound,
    ControlPaused,
    ExpiryDateInPast,
    InvalidRequest,
    InviteShockerNotFound,
    SessionOnly,
    ShareCodeAlreadyLinked,
    ShareCodeNotFound,
    ShareLinkCooldown,
    ShareLinkNotFound,
    ShareRequestNotFound,
    ShockerAlreadyInShareLink,
    ShockerNotFound,
    UserShareNotFound,
)
from domain.openshock.shocker import Shocker
from domain.openshock.values import PauseReason, Permission, ShareLimits, SharePermissions
from tests.unit.domain.openshock.world import (
    ALICE,
    BOB,
    NOW,
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

World = tuple[MemoryUnitOfWork, UUID]

CAROL = UUID("00000000-0000-0000-0000-0000000ca201")
VIBRATE_ONLY = SharePermissions(shock=False, vibrate=True, sound=False)


@pytest.fixture
def world() -> World:
    uow = new_world()
    return uow, add_shocker(uow, add_hub(uow))


def _shocker(uow: MemoryUnitOfWork, shocker_id: UUID) -> Shocker:
    shocker = uow.get(Shocker, shocker_id)
    assert shocker is not None
    return shocker


def _code(uow: MemoryUnitOfWork, shocker_id: UUID) -> UUID:
    code_id: UUID = uow.run(
        CreateShareCode(
            caller=session(),
            shocker_id=shocker_id,
            permissions=VIBRATE_ONLY,
            limits=ShareLimits(intensity=10),
            context=context(),
        )
    )
    return code_id


def _redeem(uow: MemoryUnitOfWork, code_id: UUID, user: UUID = BOB) -> None:
    uow.run(
        RedeemShareCode(caller=session(user), share_code_id=code_id, now=NOW, context=context(user))
    )


def test_a_share_code_is_redeemed_once_by_someone_else(world: World) -> None:
    uow, shocker_id = world
    code_id = _code(uow, shocker_id)
    with pytest.raises(CantLinkOwnShareCode):
        _redeem(uow, code_id, ALICE)
    _redeem(uow, code_id)
    share = _shocker(uow, shocker_id).share_of(str(BOB))
    assert share is not None and share.permissions == VIBRATE_ONLY
    assert share.limits == ShareLimits(intensity=10)
    with pytest.raises(ShareCodeNotFound):
        _redeem(uow, code_id, CAROL)  # used up
    with pytest.raises(ShareCodeAlreadyLinked):
        _redeem(uow, _code(uow, shocker_id))
    with pytest.raises(SessionOnly):
        uow.run(
            RedeemShareCode(
                caller=token(*Permission), share_code_id=code_id, now=NOW, context=context()
            )
        )


def test_share_limits_outside_the_hard_limits_are_refused(world: World) -> None:
    uow, shocker_id = world
    for limits in (ShareLimits(intensity=101), ShareLimits(duration=299)):
        with pytest.raises(InvalidRequest):
            uow.run(
                CreateShareCode(
                    caller=session(),
                    shocker_id=shocker_id,
                    permissions=SharePermissions(),
                    limits=limits,
                    context=context(),
                )
            )


def _invite(uow: MemoryUnitOfWork, shocker_id: UUID, to: UUID | None = BOB) -> UUID:
    invite_id: UUID = uow.run(
        SendShareInvite(
            caller=session(),
            recipient_id=to,
            shockers=(
                InvitedShocker(
                    shocker_id=shocker_id, permissions=VIBRATE_ONLY, limits=ShareLimits()
                ),
            ),
            context=context(),
        )
    )
    return invite_id


def test_an_invite_is_sent_then_accepted_denied_or_cancelled(world: World) -> None:
    uow, shocker_id = world
    invite_id = _invite(uow, shocker_id)
    with pytest.raises(ShareRequestNotFound):  # addressed to Bob, not Carol
        uow.run(
            AcceptShareInvite(
                caller=session(CAROL), invite_id=invite_id, now=NOW, context=context(CAROL)
            )
        )
    assert uow.run(
        AcceptShareInvite(caller=session(BOB), invite_id=invite_id, now=NOW, context=context(BOB))
    ) == [shocker_id]
    assert _shocker(uow, shocker_id).share_of(str(BOB)) is not None
    with pytest.raises(ShareRequestNotFound):  # single use
        uow.run(DenyShareInvite(caller=session(BOB), invite_id=invite_id, context=context(BOB)))
    denied = _invite(uow, shocker_id)
    uow.run(DenyShareInvite(caller=session(BOB), invite_id=denied, context=context(BOB)))
    cancelled = _invite(uow, shocker_id, to=None)
    with pytest.raises(ShareRequestNotFound):  # only the owner cancels
        uow.run(CancelShareInvite(caller=session(BOB), invite_id=cancelled, context=context(BOB)))
    uow.run(CancelShareInvite(caller=session(), invite_id=cancelled, context=context()))


def test_an_invite_names_only_own_shockers_and_not_oneself(world: World) -> None:
    uow, shocker_id = world
    bobs = add_shocker(uow, add_hub(uow, user=BOB, hashed="bob"), user=BOB)
    with pytest.raises(CannotShareWithSelf):
        _invite(uow, shocker_id, to=ALICE)
    with pytest.raises(InviteShockerNotFound) as refused:
        _invite(uow, bobs)
    assert refused.value.extensions == {"missingShockers": [str(bobs)]}
    open_invite = _invite(uow, shocker_id, to=None)
    with pytest.raises(CannotShareWithSelf):
        uow.run(
            AcceptShareInvite(caller=session(), invite_id=open_invite, now=NOW, context=context())
        )


def test_owner_edits_pauses_and_removes_user_shares(world: World) -> None:
    uow, shocker_id = world
    _redeem(uow, _code(uow, shocker_id))
    uow.run(
        UpdateUserShares(
            caller=session(),
            user_id=BOB,
            shocker_ids=(shocker_id,),
            permissions=SharePermissions(live=True),
            limits=ShareLimits(duration=500),
            context=context(),
        )
    )
    states = uow.run(
        PauseUserShares(
            caller=session(), user_id=BOB, shocker_ids=(shocker_id,), paused=True, context=context()
        )
    )
    assert states == {shocker_id: PauseReason.SHARE}
    uow.run(PauseShocker(caller=session(), shocker_id=shocker_id, paused=True, context=context()))
    assert _shocker(uow, shocker_id).share_pause_reason(str(BOB)) == 3
    pending(uow)
    with pytest.raises(UserShareNotFound):  # v2: one missing share refuses them all
        uow.run(
            RemoveUserShares(
                caller=session(), user_id=BOB, shocker_ids=(shocker_id, uuid4()), context=context()
            )
        )
    with pytest.raises(ShockerNotFound):  # the legacy route answers Shocker.NotFound
        uow.run(
            RemoveUserShares(
                caller=session(),
                user_id=CAROL,
                shocker_ids=(shocker_id,),
                legacy=True,
                context=context(),
            )
        )
    assert pending(uow) == []
    assert (
        uow.run(
            RemoveUserShares(
                caller=session(), user_id=BOB, shocker_ids=(shocker_id,), context=context()
            )
        )
        == 1
    )
    assert kinds(_shocker(uow, shocker_id).collect_events()) == ["Shocker.ShareRemoved"]


def _link(uow: MemoryUnitOfWork, expires_in: timedelta | None = None) -> UUID:
    link_id: UUID = uow.run(
        CreateShareLink(
            caller=session(),
            name="Stream",
            expires_at=None if expires_in is None else NOW + expires_in,
            now=NOW,
            context=context(),
        )
    )
    return link_id


def _guest(
    uow: MemoryUnitOfWork, link_id: UUID, shocker_id: UUID, at: datetime = NOW, **item: Any
) -> list[UUID]:
    fields = {"type": "Shock", "intensity": 90, "duration": 5000, **item}
    ids: list[UUID] = uow.run(
        ControlThroughShareLink(
            share_link_id=link_id,
            user_id=None,
            guest_name="Viewer",
            items=(ControlItem(shocker_id=shocker_id, **fields),),
            now=at,
            context=context(),
        )
    )
    return ids


def test_a_share_link_lets_guests_control_within_its_rights(world: World) -> None:
    uow, shocker_id = world
    link_id = _link(uow)
    with pytest.raises(ControlNotFound):
        _guest(uow, link_id, shocker_id)  # not on the link yet
    uow.run(
        AddShockerToShareLink(
            caller=session(),
            share_link_id=link_id,
            shocker_id=shocker_id,
            now=NOW,
            context=context(),
        )
    )
    with pytest.raises(ShockerAlreadyInShareLink):
        uow.run(
            AddShockerToShareLink(
                caller=session(),
                share_link_id=link_id,
                shocker_id=shocker_id,
                now=NOW,
                context=context(),
            )
        )
    uow.run(
        EditShareLinkShocker(
            caller=session(),
            share_link_id=link_id,
            shocker_id=shocker_id,
            permissions=SharePermissions(),
            limits=ShareLimits(intensity=30, duration=1000),
            cooldown=None,
            now=NOW,
            context=context(),
        )
    )
    [sent_id] = _guest(uow, link_id, shocker_id)
    command = uow.aggregates[sent_id]
    assert isinstance(command, ShockerCommand)
    assert (command.intensity, command.duration) == (30, 1000)
    assert (command.controlled_by, command.custom_name) == (None, "Viewer")
    assert command.share_link_id == str(link_id)
    reason = uow.run(
        PauseShareLinkShocker(
            caller=session(),
            share_link_id=link_id,
            shocker_id=shocker_id,
            paused=True,
            now=NOW,
            context=context(),
        )
    )
    assert reason == PauseReason.SHARE_LINK
    with pytest.raises(ControlPaused):
        _guest(uow, link_id, shocker_id)


def test_a_share_link_without_shock_permission(world: World) -> None:
    uow, shocker_id = world
    link_id = _link(uow)
    uow.run(
        AddShockerToShareLink(
            caller=session(),
            share_link_id=link_id,
            shocker_id=shocker_id,
            now=NOW,
            context=context(),
        )
    )
    uow.run(
        EditShareLinkShocker(
            caller=session(),
            share_link_id=link_id,
            shocker_id=shocker_id,
            permissions=VIBRATE_ONLY,
            limits=ShareLimits(),
            cooldown=1000,
            now=NOW,
            context=context(),
        )
    )
    with pytest.raises(ControlNoPermission):
        _guest(uow, link_id, shocker_id)


def test_an_expired_share_link_is_gone(world: World) -> None:
    uow, shocker_id = world
    with pytest.raises(ExpiryDateInPast):
        _link(uow, expires_in=timedelta(0))
    link_id = _link(uow, expires_in=timedelta(hours=1))
    uow.run(
        AddShockerToShareLink(
            caller=session(),
            share_link_id=link_id,
            shocker_id=shocker_id,
            now=NOW,
            context=context(),
        )
    )
    later = NOW + timedelta(hours=1)
    pending(uow)
    with pytest.raises(ShareLinkNotFound) as refused:
        _guest(uow, link_id, shocker_id, at=later)
    assert refused.value.code == "ShareLink.NotFound"
    with pytest.raises(ShareLinkNotFound):
        uow.run(
            DeleteShareLink(caller=session(), share_link_id=link_id, now=later, context=context())
        )
    assert pending(uow) == []


def test_another_users_share_link_looks_missing(world: World) -> None:
    uow, _ = world
    link_id = _link(uow)
    with pytest.raises(ShareLinkNotFound):
        uow.run(
            DeleteShareLink(
                caller=session(BOB), share_link_id=link_id, now=NOW, context=context(BOB)
            )
        )


def test_a_share_link_shocker_cools_down_after_each_control(world: World) -> None:
    uow, shocker_id = world
    link_id = _link(uow)
    for command in (
        AddShockerToShareLink(
            caller=session(),
            share_link_id=link_id,
            shocker_id=shocker_id,
            now=NOW,
            context=context(),
        ),
        EditShareLinkShocker(
            caller=session(),
            share_link_id=link_id,
            shocker_id=shocker_id,
            permissions=SharePermissions(),
            limits=ShareLimits(duration=1000),
            cooldown=2000,
            now=NOW,
            context=context(),
        ),
    ):
        uow.run(command)
    _guest(uow, link_id, shocker_id)  # 1,000 ms (capped), then 2,000 ms of cooldown
    with pytest.raises(ShareLinkCooldown):
        _guest(uow, link_id, shocker_id, at=NOW + timedelta(milliseconds=2999))
    _guest(uow, link_id, shocker_id, at=NOW + timedelta(milliseconds=3000))
