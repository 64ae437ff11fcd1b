"""OpenShock's legacy user shares: per shocker (/1/shockers/{id}/shares...) and share codes
(/1/shares/code/{id}, which only a login session redeems or deletes, as the real API's
session-only controller).

Only the shocker's owner lists or changes its shares (404 Shocker.NotFound otherwise). A
share code carries the rights the share will have; redeeming it shares the shocker with
the redeemer, once.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from api.openshock import responses, schemas
from api.openshock.auth import OpenShockAuth, context
from api.openshock.bodies import Fields, json_body
from domain.openshock.commands import (
    CreateShareCode,
    DeleteShareCode,
    PauseUserShares,
    RedeemShareCode,
    RemoveUserShares,
    UpdateUserShares,
)
from domain.openshock.errors import ShockerNotFound
from domain.openshock.values import Caller, Permission
from infra.command_bus import CommandBus
from infra.store.view_reader import ViewReader
from projections.openshock_hub_view import own_shocker
from projections.openshock_offer_view import ShareCodeRow, share_codes_of_shocker
from projections.openshock_share_view import ShockerShare, shares_of_shocker
from projections.view_store import ViewTransaction

_SHARE_VIEWS = ("openshock_hubs", "openshock_user_shares", "users")
_CODE_VIEWS = ("openshock_hubs", "openshock_share_offers")
RIGHTS = schemas.obj(
    ["permissions", "limits"], permissions=schemas.PERMISSIONS, limits=schemas.LIMITS
)


def _shares(tx: ViewTransaction, owner_id: str, shocker_id: str) -> list[ShockerShare] | None:
    if own_shocker(tx, owner_id, shocker_id) is None:
        return None
    return shares_of_shocker(tx, shocker_id)


def _codes(tx: ViewTransaction, owner_id: str, shocker_id: str) -> list[ShareCodeRow] | None:
    if own_shocker(tx, owner_id, shocker_id) is None:
        return None
    return share_codes_of_shocker(tx, shocker_id)


def shocker_shares_router(bus: CommandBus, views: ViewReader, auth: OpenShockAuth) -> APIRouter:
    router = APIRouter(tags=["OpenShock shares"])
    User = Annotated[Caller, Depends(auth.caller)]

    @router.get("/1/shockers/{shockerId}/shares", summary="Who a shocker is shared with")
    async def shocker_shares(caller: User, shockerId: UUID) -> Response:
        await views.fresh_views(*_SHARE_VIEWS)
        found = await views.query(_shares, str(caller.user_id), str(shockerId))
        if found is None:
            raise ShockerNotFound()
        return responses.legacy(
            [
                {
                    "sharedWith": {
                        "id": s.shared_with.id,
                        "name": s.shared_with.name,
                        "image": s.shared_with.image,
                    },
                    "createdOn": responses.utc(s.share.created_on),
                    "permissions": s.share.permissions.as_dict(),
                    "limits": s.share.limits.as_dict(),
                    "paused": s.share.share_paused,
                }
                for s in found
            ]
        )

    @router.get("/1/shockers/{shockerId}/shareCodes", summary="A shocker's unused share codes")
    async def share_codes(caller: User, shockerId: UUID) -> Response:
        await views.fresh_views(*_CODE_VIEWS)
        found = await views.query(_codes, str(caller.user_id), str(shockerId))
        if found is None:
            raise ShockerNotFound()
        return responses.legacy(
            [{"id": c.id, "createdOn": responses.utc(c.created_on)} for c in found]
        )

    @router.post(
        "/1/shockers/{shockerId}/shares",
        summary="Make a share code for a shocker: whoever redeems it gets these rights",
        openapi_extra=schemas.body(RIGHTS),
    )
    async def create_share_code(request: Request, caller: User, shockerId: UUID) -> Response:
        caller.require(Permission.SHOCKERS_EDIT)
        body = Fields(await json_body(request))
        permissions, limits = body.rights()
        body.check()
        code_id = await bus.execute(
            CreateShareCode(
                caller=caller,
                shocker_id=shockerId,
                permissions=permissions,
                limits=limits,
                context=context(request),
            )
        )
        return responses.legacy(str(code_id))

    @router.patch(
        "/1/shockers/{shockerId}/shares/{sharedWithUserId}",
        summary="Change what a user may do with a shocker shared with them",
        openapi_extra=schemas.body(RIGHTS),
    )
    async def update_share(
        request: Request, caller: User, shockerId: UUID, sharedWithUserId: UUID
    ) -> Response:
        caller.require(Permission.SHOCKERS_EDIT)
        body = Fields(await json_body(request))
        permissions, limits = body.rights()
        body.check()
        await bus.execute(
            UpdateUserShares(
                caller=caller,
                user_id=sharedWithUserId,
                shocker_ids=(shockerId,),
                permissions=permissions,
                limits=limits,
                context=context(request),
            )
        )
        return responses.empty_ok()

    @router.delete(
        "/1/shockers/{shockerId}/shares/{sharedWithUserId}",
        summary="Stop sharing a shocker with a user",
    )
    async def remove_share(
        request: Request, caller: User, shockerId: UUID, sharedWithUserId: UUID
    ) -> Response:
        caller.require(Permission.SHOCKERS_EDIT)
        await bus.execute(
            RemoveUserShares(
                caller=caller,
                user_id=sharedWithUserId,
                shocker_ids=(shockerId,),
                legacy=True,
                context=context(request),
            )
        )
        return responses.empty_ok()

    @router.post(
        "/1/shockers/{shockerId}/shares/{sharedWithUserId}/pause",
        summary="Pause a user's share of a shocker: answers the new state",
        openapi_extra=schemas.body(schemas.PAUSE),
    )
    async def pause_share(
        request: Request, caller: User, shockerId: UUID, sharedWithUserId: UUID
    ) -> Response:
        caller.require(Permission.SHOCKERS_PAUSE)
        body = Fields(await json_body(request))
        paused = body.boolean("pause")
        body.check()
        await bus.execute(
            PauseUserShares(
                caller=caller,
                user_id=sharedWithUserId,
                shocker_ids=(shockerId,),
                paused=paused,
                legacy=True,
                context=context(request),
            )
        )
        return responses.legacy(paused)

    @router.post("/1/shares/code/{shareCodeId}", summary="Redeem a share code (session only)")
    async def redeem_share_code(request: Request, caller: User, shareCodeId: UUID) -> Response:
        await bus.execute(
            RedeemShareCode(
                caller=caller,
                share_code_id=shareCodeId,
                now=datetime.now(UTC),
                context=context(request),
            )
        )
        return responses.legacy(None, "Successfully linked share code")

    @router.delete("/1/shares/code/{shareCodeId}", summary="Delete a share code (session only)")
    async def delete_share_code(request: Request, caller: User, shareCodeId: UUID) -> Response:
        await bus.execute(
            DeleteShareCode(caller=caller, share_code_id=shareCodeId, context=context(request))
        )
        return responses.legacy(None, "Successfully deleted share code")

    return router
