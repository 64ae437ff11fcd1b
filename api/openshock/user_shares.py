"""OpenShock's v2 user shares (/2/shares/user): both sides' shares, invites (addressed to a
user, or open to whoever takes them first), and bulk changes of one user's shares.

Answers are raw bodies, as every v2 route's. A shocker that is not the caller's, or not
shared with the named user, refuses the whole request (nothing changes).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from api.openshock import responses, schemas
from api.openshock.auth import OpenShockAuth, context
from api.openshock.bodies import Fields, guid_or_none, json_body
from api.openshock.errors import OpenShockProblem
from domain.openshock.commands import (
    AcceptShareInvite,
    CancelShareInvite,
    DenyShareInvite,
    InvitedShocker,
    PauseUserShares,
    RemoveUserShares,
    SendShareInvite,
    UpdateUserShares,
)
from domain.openshock.errors import invalid
from domain.openshock.values import MAX_SHOCKERS_PER_INVITE, Caller, Permission
from infra.command_bus import CommandBus
from infra.store.view_reader import ViewReader
from projections.openshock_offer_view import InviteRow, incoming_invites, outgoing_invites
from projections.openshock_shapes import UserRef
from projections.openshock_share_view import (
    SharedShocker,
    ShareGroup,
    incoming_shares,
    outgoing_shares,
)
from projections.user_view import users_by_subject
from projections.view_store import ViewTransaction

_SHARE_VIEWS = ("openshock_hubs", "openshock_user_shares", "users")
_INVITE_VIEWS = ("openshock_hubs", "openshock_share_offers", "users")
_GUIDS = {"type": "array", "items": schemas.GUID, "minItems": 1}
INVITE = schemas.obj(
    ["shockers"],
    shockers={
        "type": "array",
        "maxItems": MAX_SHOCKERS_PER_INVITE,
        "items": schemas.obj(
            ["id", "permissions", "limits"],
            id=schemas.GUID,
            permissions=schemas.PERMISSIONS,
            limits=schemas.LIMITS,
        ),
    },
    user={"type": ["string", "null"], "format": "uuid"},
)


def _user(ref: UserRef) -> dict[str, str]:
    return {"id": ref.id, "name": ref.name, "image": ref.image}


def _share(share: SharedShocker) -> dict[str, Any]:
    return {
        "id": share.id,
        "name": share.name,
        "createdOn": responses.utc(share.created_on),
        "permissions": share.permissions.as_dict(),
        "limits": share.limits.as_dict(),
        "paused": share.pause_reason,
    }


def _group(group: ShareGroup) -> dict[str, Any]:
    return {**_user(group.user), "shares": [_share(s) for s in group.shares]}


def _invite(invite: InviteRow) -> dict[str, Any]:
    return {
        "id": invite.id,
        "createdAt": responses.utc(invite.created_at),
        "owner": _user(invite.owner),
        "sharedWith": None if invite.shared_with is None else _user(invite.shared_with),
        "shockers": [
            {
                "id": s.id,
                "name": s.name,
                "permissions": s.permissions.as_dict(),
                "limits": s.limits.as_dict(),
            }
            for s in invite.shockers
        ],
    }


def _both_sides(tx: ViewTransaction, user_id: str) -> dict[str, Any]:
    return {
        "outgoing": [_group(g) for g in outgoing_shares(tx, user_id)],
        "incoming": [_group(g) for g in incoming_shares(tx, user_id)],
    }


def _is_user(tx: ViewTransaction, user_id: str) -> bool:
    return user_id in users_by_subject(tx, {user_id})


def _shocker_ids(value: Any, path: str) -> tuple[UUID, ...]:
    if not isinstance(value, list) or not value:
        raise invalid(path, "must be a non-empty array of shocker ids")
    ids = tuple(guid_or_none(v) for v in value)
    if any(i is None for i in ids):
        raise invalid(path, "every item must be a GUID")
    return tuple(i for i in ids if i is not None)


def user_shares_router(bus: CommandBus, views: ViewReader, auth: OpenShockAuth) -> APIRouter:
    router = APIRouter(prefix="/2/shares/user", tags=["OpenShock shares"])
    User = Annotated[Caller, Depends(auth.caller)]

    @router.get("", summary="Shares the caller gives (outgoing) and is given (incoming)")
    async def shares(caller: User) -> Response:
        caller.require(Permission.USERSHARES_EDIT)
        await views.fresh_views(*_SHARE_VIEWS)
        return responses.raw(await views.query(_both_sides, str(caller.user_id)))

    @router.post(
        "/invites",
        summary="Invite a user (or, without one, whoever takes it) to shockers: answers its id",
        openapi_extra=schemas.body(INVITE),
    )
    async def send_invite(request: Request, caller: User) -> Response:
        caller.require(Permission.USERSHARES_EDIT)
        body = Fields(await json_body(request))
        user_id = body.optional_guid("user")
        items = []
        for item in body.items("shockers"):
            permissions, limits = item.rights()
            items.append(
                InvitedShocker(shocker_id=item.guid("id"), permissions=permissions, limits=limits)
            )
        body.check()
        if user_id is not None and user_id != caller.user_id:
            await views.fresh_views("users")
            if not await views.query(_is_user, str(user_id)):
                raise OpenShockProblem("User.NotFound", "User not found", 404)
        invite_id = await bus.execute(
            SendShareInvite(
                caller=caller,
                recipient_id=user_id,
                shockers=tuple(items),
                context=context(request),
            )
        )
        return responses.raw(str(invite_id))

    @router.get("/invites/outgoing", summary="The caller's invites not yet taken")
    async def outgoing(caller: User) -> Response:
        caller.require(Permission.USERSHARES_EDIT)
        await views.fresh_views(*_INVITE_VIEWS)
        found = await views.query(outgoing_invites, str(caller.user_id))
        return responses.raw([_invite(i) for i in found])

    @router.get("/invites/incoming", summary="Invites addressed to the caller")
    async def incoming(caller: User) -> Response:
        caller.require(Permission.USERSHARES_EDIT)
        await views.fresh_views(*_INVITE_VIEWS)
        found = await views.query(incoming_invites, str(caller.user_id))
        return responses.raw([_invite(i) for i in found])

    @router.delete("/invites/outgoing/{inviteId}", summary="Withdraw an invite")
    async def cancel(request: Request, caller: User, inviteId: UUID) -> Response:
        caller.require(Permission.USERSHARES_EDIT)
        await bus.execute(
            CancelShareInvite(caller=caller, invite_id=inviteId, context=context(request))
        )
        return responses.empty_ok()

    @router.delete("/invites/incoming/{inviteId}", summary="Decline an invite")
    async def deny(request: Request, caller: User, inviteId: UUID) -> Response:
        caller.require(Permission.USERSHARES_EDIT)
        await bus.execute(
            DenyShareInvite(caller=caller, invite_id=inviteId, context=context(request))
        )
        return responses.empty_ok()

    @router.post(
        "/invites/incoming/{inviteId}",
        summary="Accept an invite: answers the owner and the shares it made",
    )
    async def accept(request: Request, caller: User, inviteId: UUID) -> Response:
        caller.require(Permission.USERSHARES_EDIT)
        shared = await bus.execute(
            AcceptShareInvite(
                caller=caller, invite_id=inviteId, now=datetime.now(UTC), context=context(request)
            )
        )
        await views.fresh_views(*_SHARE_VIEWS)
        groups = await views.query(incoming_shares, str(caller.user_id))
        wanted = {str(s) for s in shared}
        for group in groups:
            mine = [s for s in group.shares if s.id in wanted]
            if mine:
                return responses.raw({**_user(group.user), "shares": [_share(s) for s in mine]})
        return responses.raw({"id": None, "name": "", "image": "", "shares": []})

    @router.patch(
        "/{userId}/shockers",
        summary="Change the rights of some of the caller's shares with a user",
        openapi_extra=schemas.body(
            schemas.obj(
                ["shockers", "permissions", "limits"],
                shockers=_GUIDS,
                permissions=schemas.PERMISSIONS,
                limits=schemas.LIMITS,
            )
        ),
    )
    async def update(request: Request, caller: User, userId: UUID) -> Response:
        caller.require(Permission.SHOCKERS_EDIT)
        body = Fields(await json_body(request))
        permissions, limits = body.rights()
        body.check()
        await bus.execute(
            UpdateUserShares(
                caller=caller,
                user_id=userId,
                shocker_ids=_shocker_ids(body.get("shockers"), "shockers"),
                permissions=permissions,
                limits=limits,
                context=context(request),
            )
        )
        return responses.empty_ok()

    @router.post(
        "/{userId}/shockers/pause",
        summary="Pause or resume some of the caller's shares with a user",
        openapi_extra=schemas.body(
            schemas.obj(["shockers", "pause"], shockers=_GUIDS, pause={"type": "boolean"})
        ),
    )
    async def pause(request: Request, caller: User, userId: UUID) -> Response:
        caller.require(Permission.USERSHARES_PAUSE)
        body = Fields(await json_body(request))
        paused = body.boolean("pause")
        body.check()
        states = await bus.execute(
            PauseUserShares(
                caller=caller,
                user_id=userId,
                shocker_ids=_shocker_ids(body.get("shockers"), "shockers"),
                paused=paused,
                context=context(request),
            )
        )
        return responses.raw(
            {
                "affectedRecords": len(states),
                "pauseStates": {str(k): v for k, v in states.items()},
            }
        )

    @router.delete(
        "/{userId}/shockers",
        summary="Stop sharing some shockers with a user (the body is the array of ids)",
        openapi_extra=schemas.body(_GUIDS),
    )
    async def remove(request: Request, caller: User, userId: UUID) -> Response:
        caller.require(Permission.SHOCKERS_EDIT)
        removed = await bus.execute(
            RemoveUserShares(
                caller=caller,
                user_id=userId,
                shocker_ids=_shocker_ids(await json_body(request), "$"),
                context=context(request),
            )
        )
        return responses.raw({"affectedRecords": removed})

    return router
