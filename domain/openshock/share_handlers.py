"""Decisions about user shares (share codes, invites, per-shocker edits) and share links."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.commands import UnitOfWork
from domain.openshock.commands import (
    AcceptShareInvite,
    AddShockerToShareLink,
    CancelShareInvite,
    CreateShareCode,
    CreateShareLink,
    DeleteShareCode,
    DeleteShareLink,
    DenyShareInvite,
    EditShareLinkShocker,
    PauseShareLinkShocker,
    PauseUserShares,
    RedeemShareCode,
    RemoveShockerFromShareLink,
    RemoveUserShares,
    SendShareInvite,
    UpdateUserShares,
)
from domain.openshock.errors import (
    CannotShareWithSelf,
    CantLinkOwnShareCode,
    ExpiryDateInPast,
    InviteShockerNotFound,
    ShareCodeAlreadyLinked,
    ShareCodeNotFound,
    ShareLinkNotFound,
    ShareRequestNotFound,
    ShockerAlreadyInShareLink,
    ShockerNotFound,
    ShockerNotInShareLink,
    UserShareNotFound,
    invalid,
)
from domain.openshock.hub_handlers import own_shocker
from domain.openshock.sharing import ShareCode, ShareInvite, ShareLink
from domain.openshock.shocker import Shocker
from domain.openshock.values import (
    MAX_DURATION,
    MAX_SHOCKERS_PER_INVITE,
    MIN_DURATION,
    Caller,
    Permission,
    ShareLimits,
    SharePermissions,
    checked_limits,
    checked_name,
)

# --- legacy share codes ---


def create_share_code(command: CreateShareCode, uow: UnitOfWork) -> UUID:
    command.caller.require(Permission.SHOCKERS_EDIT)
    limits = checked_limits(command.limits)
    shocker = own_shocker(uow, command.caller, command.shocker_id)
    code = ShareCode(
        shocker_id=str(shocker.id),
        owner_id=shocker.owner_id,
        permissions=command.permissions.as_dict(),
        limits=limits.as_dict(),
        meta=command.context.as_metadata(),
    )
    uow.add(code)
    return code.id


def redeem_share_code(command: RedeemShareCode, uow: UnitOfWork) -> None:
    command.caller.require_session()
    user_id = str(command.caller.user_id)
    code = uow.get(ShareCode, command.share_code_id)
    shocker = None if code is None else uow.get(Shocker, UUID(code.shocker_id))
    if code is None or code.gone or shocker is None or shocker.deleted:
        raise ShareCodeNotFound()
    if shocker.owner_id == user_id:
        raise CantLinkOwnShareCode()
    if shocker.share_of(user_id) is not None:
        raise ShareCodeAlreadyLinked()
    meta = command.context.as_metadata()
    shocker.share_with(
        user_id,
        SharePermissions.from_dict(code.permissions),
        ShareLimits.from_dict(code.limits),
        paused=False,
        at=command.now,
        meta=meta,
    )
    code.redeem(user_id, meta=meta)


def delete_share_code(command: DeleteShareCode, uow: UnitOfWork) -> None:
    command.caller.require_session()
    code = uow.get(ShareCode, command.share_code_id)
    if code is None or code.gone or code.owner_id != str(command.caller.user_id):
        raise ShareCodeNotFound()
    code.delete(meta=command.context.as_metadata())


# --- the owner's edits of existing user shares ---


def update_user_shares(command: UpdateUserShares, uow: UnitOfWork) -> None:
    command.caller.require(Permission.SHOCKERS_EDIT)
    limits = checked_limits(command.limits)
    shockers = _shared_shockers(uow, command.caller, command.user_id, command.shocker_ids, True)
    meta = command.context.as_metadata()
    user_id = str(command.user_id)
    for shocker in shockers:
        share = shocker.share_of(user_id)
        if share is not None and (share.permissions, share.limits) != (command.permissions, limits):
            shocker.change_share(user_id, command.permissions, limits, meta=meta)


def pause_user_shares(command: PauseUserShares, uow: UnitOfWork) -> dict[UUID, int]:
    """Answers each shocker's PauseReason flags after the change."""
    command.caller.require(
        Permission.SHOCKERS_PAUSE if command.legacy else Permission.USERSHARES_PAUSE
    )
    shockers = _shared_shockers(
        uow, command.caller, command.user_id, command.shocker_ids, command.legacy
    )
    meta = command.context.as_metadata()
    user_id = str(command.user_id)
    states = {}
    for shocker in shockers:
        share = shocker.share_of(user_id)
        if share is not None and share.paused != command.paused:
            shocker.set_share_paused(user_id, command.paused, meta=meta)
        states[shocker.id] = shocker.share_pause_reason(user_id)
    return states


def remove_user_shares(command: RemoveUserShares, uow: UnitOfWork) -> int:
    command.caller.require(Permission.SHOCKERS_EDIT)
    shockers = _shared_shockers(
        uow, command.caller, command.user_id, command.shocker_ids, command.legacy
    )
    meta = command.context.as_metadata()
    for shocker in shockers:
        shocker.remove_share(str(command.user_id), meta=meta)
    return len(shockers)


def _shared_shockers(
    uow: UnitOfWork, caller: Caller, user_id: UUID, shocker_ids: tuple[UUID, ...], legacy: bool
) -> list[Shocker]:
    """The caller's shockers shared with `user_id`, all of them or a refusal (nothing done)."""
    if not shocker_ids:
        raise invalid("shockers", "name at least one shocker")
    found: dict[UUID, Shocker] = {}
    for shocker_id in shocker_ids:
        shocker = uow.get(Shocker, shocker_id)
        if (
            shocker is None
            or not shocker.is_owned_by(str(caller.user_id))
            or shocker.share_of(str(user_id)) is None
        ):
            raise ShockerNotFound() if legacy else UserShareNotFound()
        found[shocker_id] = shocker
    return list(found.values())


# --- share invites ---


def send_share_invite(command: SendShareInvite, uow: UnitOfWork) -> UUID:
    command.caller.require(Permission.USERSHARES_EDIT)
    if command.recipient_id == command.caller.user_id:
        raise CannotShareWithSelf()
    if len(command.shockers) > MAX_SHOCKERS_PER_INVITE:
        raise invalid("shockers", f"at most {MAX_SHOCKERS_PER_INVITE} shockers per invite")
    items = []
    missing = []
    for index, item in enumerate(command.shockers):
        limits = checked_limits(item.limits, f"shockers[{index}].limits")
        shocker = uow.get(Shocker, item.shocker_id)
        if shocker is None or not shocker.is_owned_by(str(command.caller.user_id)):
            missing.append(str(item.shocker_id))
            continue
        items.append(
            {
                "shocker_id": str(item.shocker_id),
                "permissions": item.permissions.as_dict(),
                "limits": limits.as_dict(),
            }
        )
    if missing:
        raise InviteShockerNotFound(missingShockers=missing)
    recipient = None if command.recipient_id is None else str(command.recipient_id)
    invite = ShareInvite(
        owner_id=str(command.caller.user_id),
        recipient_id=recipient,
        shockers=items,
        meta=command.context.as_metadata(),
    )
    uow.add(invite)
    return invite.id


def accept_share_invite(command: AcceptShareInvite, uow: UnitOfWork) -> list[UUID]:
    """Shares (or re-shares, replacing the rights) each shocker still there; answers them."""
    command.caller.require(Permission.USERSHARES_EDIT)
    user_id = str(command.caller.user_id)
    invite = uow.get(ShareInvite, command.invite_id)
    if invite is None or not invite.is_open_to(user_id):
        raise ShareRequestNotFound()
    if invite.owner_id == user_id:
        raise CannotShareWithSelf()
    meta = command.context.as_metadata()
    shared = []
    for item in invite.shockers:
        shocker = uow.get(Shocker, UUID(item["shocker_id"]))
        # A shocker deleted (or moved away) since the invite was sent is left out, as the
        # real API's cascade drops it from the invite.
        if shocker is None or not shocker.is_owned_by(invite.owner_id):
            continue
        shocker.share_with(
            user_id,
            SharePermissions.from_dict(item["permissions"]),
            ShareLimits.from_dict(item["limits"]),
            paused=False,
            at=command.now,
            meta=meta,
        )
        shared.append(shocker.id)
    invite.accept(user_id, meta=meta)
    return shared


def deny_share_invite(command: DenyShareInvite, uow: UnitOfWork) -> None:
    command.caller.require(Permission.USERSHARES_EDIT)
    user_id = str(command.caller.user_id)
    invite = uow.get(ShareInvite, command.invite_id)
    # Only an invite addressed to the caller can be denied (an open one is just not taken).
    if invite is None or invite.state != "pending" or invite.recipient_id != user_id:
        raise ShareRequestNotFound()
    invite.deny(user_id, meta=command.context.as_metadata())


def cancel_share_invite(command: CancelShareInvite, uow: UnitOfWork) -> None:
    command.caller.require(Permission.USERSHARES_EDIT)
    invite = uow.get(ShareInvite, command.invite_id)
    if (
        invite is None
        or invite.state != "pending"
        or invite.owner_id != str(command.caller.user_id)
    ):
        raise ShareRequestNotFound()
    invite.cancel(meta=command.context.as_metadata())


# --- share links ---


def create_share_link(command: CreateShareLink, uow: UnitOfWork) -> UUID:
    command.caller.require(Permission.PUBLICSHARES_EDIT)
    name = checked_name(command.name)
    if command.expires_at is not None and command.expires_at <= command.now:
        raise ExpiryDateInPast()
    link = ShareLink(
        owner_id=str(command.caller.user_id),
        name=name,
        expires_at=command.expires_at,
        meta=command.context.as_metadata(),
    )
    uow.add(link)
    return link.id


def delete_share_link(command: DeleteShareLink, uow: UnitOfWork) -> None:
    command.caller.require(Permission.PUBLICSHARES_EDIT)
    # An expired link cannot be deleted either: the real API treats it as gone.
    link = _own_live_link(uow, command.caller, command.share_link_id, command.now)
    link.delete(meta=command.context.as_metadata())


def add_shocker_to_share_link(command: AddShockerToShareLink, uow: UnitOfWork) -> None:
    command.caller.require(Permission.PUBLICSHARES_EDIT)
    link = _own_live_link(uow, command.caller, command.share_link_id, command.now)
    shocker = own_shocker(uow, command.caller, command.shocker_id)
    if str(shocker.id) in link.shockers:
        raise ShockerAlreadyInShareLink()
    link.add_shocker(str(shocker.id), meta=command.context.as_metadata())


def edit_share_link_shocker(command: EditShareLinkShocker, uow: UnitOfWork) -> None:
    command.caller.require(Permission.PUBLICSHARES_EDIT)
    limits = checked_limits(command.limits)
    cooldown = command.cooldown
    if cooldown is not None and (
        isinstance(cooldown, bool) or not MIN_DURATION <= cooldown <= MAX_DURATION
    ):
        raise invalid("cooldown", f"must be {MIN_DURATION}..{MAX_DURATION} or null")
    link = _own_live_link(uow, command.caller, command.share_link_id, command.now)
    shocker_id = str(command.shocker_id)
    if shocker_id not in link.shockers:
        raise ShockerNotInShareLink()
    link.edit_shocker(
        shocker_id, command.permissions, limits, cooldown, meta=command.context.as_metadata()
    )


def pause_share_link_shocker(command: PauseShareLinkShocker, uow: UnitOfWork) -> int:
    """Answers the shocker's PauseReason flags on this link after the change."""
    command.caller.require(Permission.PUBLICSHARES_PAUSE)
    link = _own_live_link(uow, command.caller, command.share_link_id, command.now)
    shocker_id = str(command.shocker_id)
    if shocker_id not in link.shockers:
        raise ShockerNotInShareLink()
    if bool(link.shockers[shocker_id]["paused"]) != command.paused:
        link.set_shocker_paused(shocker_id, command.paused, meta=command.context.as_metadata())
    shocker = uow.get(Shocker, command.shocker_id)
    return link.pause_reason(shocker_id, shocker is not None and shocker.paused)


def remove_shocker_from_share_link(command: RemoveShockerFromShareLink, uow: UnitOfWork) -> None:
    command.caller.require(Permission.PUBLICSHARES_EDIT)
    link = _own_live_link(uow, command.caller, command.share_link_id, command.now)
    shocker_id = str(command.shocker_id)
    if shocker_id not in link.shockers:
        raise ShockerNotInShareLink()
    link.remove_shocker(shocker_id, meta=command.context.as_metadata())


def _own_live_link(uow: UnitOfWork, caller: Caller, link_id: UUID, now: datetime) -> ShareLink:
    link = uow.get(ShareLink, link_id)
    if link is None or not link.is_live(now) or link.owner_id != str(caller.user_id):
        raise ShareLinkNotFound()
    return link


HANDLERS = {
    CreateShareCode: create_share_code,
    RedeemShareCode: redeem_share_code,
    DeleteShareCode: delete_share_code,
    UpdateUserShares: update_user_shares,
    PauseUserShares: pause_user_shares,
    RemoveUserShares: remove_user_shares,
    SendShareInvite: send_share_invite,
    AcceptShareInvite: accept_share_invite,
    DenyShareInvite: deny_share_invite,
    CancelShareInvite: cancel_share_invite,
    CreateShareLink: create_share_link,
    DeleteShareLink: delete_share_link,
    AddShockerToShareLink: add_shocker_to_share_link,
    EditShareLinkShocker: edit_share_link_shocker,
    PauseShareLinkShocker: pause_share_link_shocker,
    RemoveShockerFromShareLink: remove_shocker_from_share_link,
}
