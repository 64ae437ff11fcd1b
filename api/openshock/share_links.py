"""OpenShock share links ("public shares"): /1/shares/links for their owner, and the anonymous
GET /1/public/shares/links/{id} anyone with the link reads.

An expired link is gone for its owner: not listed, not changed (404 ShareLink.NotFound), as
the real API treats it; its public read still shows it with its past expiresOn, as the real
API's does (control through it, the share-link hub's, refuses it). Adding a shocker that is
not the caller's is 404 Shocker.NotFound.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from api.openshock import responses, schemas
from api.openshock.auth import OpenShockAuth, context
from api.openshock.bodies import Fields, json_body
from domain.openshock.commands import (
    AddShockerToShareLink,
    CreateShareLink,
    DeleteShareLink,
    EditShareLinkShocker,
    PauseShareLinkShocker,
    RemoveShockerFromShareLink,
)
from domain.openshock.errors import ShareLinkNotFound
from domain.openshock.values import Caller, Permission
from infra.command_bus import CommandBus
from infra.store.view_reader import ViewReader
from projections.openshock_share_link_view import ShareLinkDetail, share_link, share_links_of

_VIEWS = ("openshock_share_links", "openshock_hubs", "users")
RIGHTS = schemas.obj(
    ["permissions", "limits"],
    permissions=schemas.PERMISSIONS,
    limits=schemas.LIMITS,
    cooldown={"type": ["integer", "null"], "minimum": 300, "maximum": 65535},
)


def _now() -> datetime:
    return datetime.now(UTC)


def public_link(found: ShareLinkDetail) -> dict[str, Any]:
    link = found.link
    return {
        "id": link.id,
        "name": link.name,
        "createdOn": responses.utc(link.created_on),
        "expiresOn": None if link.expires_on is None else responses.utc(link.expires_on),
        "author": {"id": found.author.id, "name": found.author.name, "image": found.author.image},
        "devices": [
            {
                "id": hub.id,
                "name": hub.name,
                "shockers": [
                    {
                        "id": s.id,
                        "name": s.name,
                        "permissions": s.permissions.as_dict(),
                        "limits": s.limits.as_dict(),
                        "paused": s.pause_reason,
                    }
                    for s in hub.shockers
                ],
            }
            for hub in found.hubs
        ],
    }


def share_links_router(bus: CommandBus, views: ViewReader, auth: OpenShockAuth) -> APIRouter:
    router = APIRouter(tags=["OpenShock share links"])
    User = Annotated[Caller, Depends(auth.caller)]

    @router.get("/1/shares/links", summary="The caller's share links that have not expired")
    async def list_links(caller: User) -> Response:
        caller.require(Permission.PUBLICSHARES_EDIT)
        await views.fresh_views(*_VIEWS)
        rows = await views.query(share_links_of, str(caller.user_id), _now())
        return responses.legacy(
            [
                {
                    "id": r.id,
                    "name": r.name,
                    "createdOn": responses.utc(r.created_on),
                    "expiresOn": None if r.expires_on is None else responses.utc(r.expires_on),
                }
                for r in rows
            ]
        )

    @router.post(
        "/1/shares/links",
        summary="Create a share link (expiresOn in the future, or null: never)",
        openapi_extra=schemas.body(
            schemas.obj(
                ["name"],
                name=schemas.NAME,
                expiresOn={"type": ["string", "null"], "format": "date-time"},
            )
        ),
    )
    async def create_link(request: Request, caller: User) -> Response:
        caller.require(Permission.PUBLICSHARES_EDIT)
        body = Fields(await json_body(request))
        name, expires = body.text("name"), body.optional_time("expiresOn")
        body.check()
        link_id = await bus.execute(
            CreateShareLink(
                caller=caller, name=name, expires_at=expires, now=_now(), context=context(request)
            )
        )
        return responses.legacy(str(link_id))

    @router.delete("/1/shares/links/{publicShareId}", summary="Delete a share link")
    async def delete_link(request: Request, caller: User, publicShareId: UUID) -> Response:
        caller.require(Permission.PUBLICSHARES_EDIT)
        await bus.execute(
            DeleteShareLink(
                caller=caller, share_link_id=publicShareId, now=_now(), context=context(request)
            )
        )
        return responses.legacy(None, "Deleted public share")

    @router.post(
        "/1/shares/links/{publicShareId}/{shockerId}",
        summary="Add one of the caller's shockers to a share link",
    )
    async def add_shocker(
        request: Request, caller: User, publicShareId: UUID, shockerId: UUID
    ) -> Response:
        caller.require(Permission.PUBLICSHARES_EDIT)
        await bus.execute(
            AddShockerToShareLink(
                caller=caller,
                share_link_id=publicShareId,
                shocker_id=shockerId,
                now=_now(),
                context=context(request),
            )
        )
        return responses.legacy(None, "Successfully added shocker")

    @router.patch(
        "/1/shares/links/{publicShareId}/{shockerId}",
        summary="What a share link allows on a shocker: permissions, limits, cooldown",
        openapi_extra=schemas.body(RIGHTS),
    )
    async def edit_shocker(
        request: Request, caller: User, publicShareId: UUID, shockerId: UUID
    ) -> Response:
        caller.require(Permission.PUBLICSHARES_EDIT)
        body = Fields(await json_body(request))
        permissions, limits = body.rights()
        cooldown = body.optional_integer("cooldown")
        body.check()
        await bus.execute(
            EditShareLinkShocker(
                caller=caller,
                share_link_id=publicShareId,
                shocker_id=shockerId,
                permissions=permissions,
                limits=limits,
                cooldown=cooldown,
                now=_now(),
                context=context(request),
            )
        )
        return responses.legacy(None, "Successfully updated shocker")

    @router.delete(
        "/1/shares/links/{publicShareId}/{shockerId}", summary="Take a shocker off a share link"
    )
    async def remove_shocker(
        request: Request, caller: User, publicShareId: UUID, shockerId: UUID
    ) -> Response:
        caller.require(Permission.PUBLICSHARES_EDIT)
        await bus.execute(
            RemoveShockerFromShareLink(
                caller=caller,
                share_link_id=publicShareId,
                shocker_id=shockerId,
                now=_now(),
                context=context(request),
            )
        )
        return responses.legacy(None, "Successfully removed 1 shocker")

    @router.post(
        "/1/shares/links/{publicShareId}/{shockerId}/pause",
        summary="Pause a shocker on a share link: answers its PauseReason flags",
        openapi_extra=schemas.body(schemas.PAUSE),
    )
    async def pause_shocker(
        request: Request, caller: User, publicShareId: UUID, shockerId: UUID
    ) -> Response:
        caller.require(Permission.PUBLICSHARES_PAUSE)
        body = Fields(await json_body(request))
        paused = body.boolean("pause")
        body.check()
        reason = await bus.execute(
            PauseShareLinkShocker(
                caller=caller,
                share_link_id=publicShareId,
                shocker_id=shockerId,
                paused=paused,
                now=_now(),
                context=context(request),
            )
        )
        return responses.legacy(reason)

    @router.get(
        "/1/public/shares/links/{publicShareId}",
        summary="A share link as anyone holding it sees it (no credential needed)",
    )
    async def public_share_link(publicShareId: UUID) -> Response:
        await views.fresh_views(*_VIEWS)
        found = await views.query(share_link, str(publicShareId), None)
        if found is None:
            raise ShareLinkNotFound()
        return responses.legacy(public_link(found))

    return router
