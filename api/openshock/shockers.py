"""OpenShock shockers: /1/shockers (own, shared, one, register, full-body edit, delete, pause).

Only the owner sees or changes a shocker here; another user's is answered as a missing one
(404 Shocker.NotFound). Registering names the hub (404 Device.NotFound if it is not the
caller's); a hub holds at most 11 (400 Device.TooManyShockers).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from api.openshock import responses, schemas
from api.openshock.auth import OpenShockAuth, context
from api.openshock.bodies import Fields, json_body
from domain.openshock.commands import EditShocker, PauseShocker, RegisterShocker, RemoveShocker
from domain.openshock.errors import ShockerNotFound
from domain.openshock.values import Caller, Permission
from infra.command_bus import CommandBus
from infra.store.view_reader import ViewReader
from projections.openshock_hub_view import hubs_with_shockers, own_shocker
from projections.openshock_share_view import shared_with

_HUBS = ("openshock_hubs",)
# Shared shockers name their owners, read from the users view.
_SHARED = ("openshock_hubs", "openshock_user_shares", "users")


def _shocker_fields(body: Fields) -> tuple[str, int, UUID, str | int]:
    """The full shocker body every write takes: name, rfId, device, model."""
    shocker = (body.text("name"), body.integer("rfId"), body.guid("device"), body.enum("model"))
    body.check()
    return shocker


def shockers_router(bus: CommandBus, views: ViewReader, auth: OpenShockAuth) -> APIRouter:
    router = APIRouter(tags=["OpenShock shockers"])
    User = Annotated[Caller, Depends(auth.caller)]

    @router.get("/1/shockers/own", summary="The caller's hubs, each with its shockers")
    async def own_shockers(caller: User) -> Response:
        await views.fresh_views(*_HUBS)
        found = await views.query(hubs_with_shockers, str(caller.user_id))
        return responses.legacy([responses.hub_with_shockers(h) for h in found])

    @router.get(
        "/1/shockers/shared", summary="Shockers others share with the caller, by owner and hub"
    )
    async def shared_shockers(caller: User) -> Response:
        await views.fresh_views(*_SHARED)
        found = await views.query(shared_with, str(caller.user_id))
        return responses.legacy([responses.shared_owner(o) for o in found])

    @router.post(
        "/1/shockers",
        status_code=201,
        summary="Register a shocker on one of the caller's hubs (at most 11 a hub)",
        openapi_extra=schemas.body(schemas.SHOCKER),
    )
    async def register_shocker(request: Request, caller: User) -> Response:
        caller.require(Permission.SHOCKERS_EDIT)
        name, rf_id, hub_id, model = _shocker_fields(Fields(await json_body(request)))
        shocker_id = await bus.execute(
            RegisterShocker(
                caller=caller,
                hub_id=hub_id,
                name=name,
                rf_id=rf_id,
                model=model,
                context=context(request),
            )
        )
        response = responses.legacy(str(shocker_id), status_code=201)
        response.headers["Location"] = f"/1/shockers/{shocker_id}"
        return response

    @router.get("/1/shockers/{shockerId}", summary="One of the caller's shockers")
    async def get_shocker(caller: User, shockerId: UUID) -> Response:
        await views.fresh_views(*_HUBS)
        row = await views.query(own_shocker, str(caller.user_id), str(shockerId))
        if row is None:
            raise ShockerNotFound()
        return responses.legacy(responses.shocker_with_hub(row))

    @router.patch(
        "/1/shockers/{shockerId}",
        summary="Edit a shocker: the full body (name, rfId, device, model); device moves it",
        openapi_extra=schemas.body(schemas.SHOCKER),
    )
    async def edit_shocker(request: Request, caller: User, shockerId: UUID) -> Response:
        caller.require(Permission.SHOCKERS_EDIT)
        name, rf_id, hub_id, model = _shocker_fields(Fields(await json_body(request)))
        await bus.execute(
            EditShocker(
                caller=caller,
                shocker_id=shockerId,
                hub_id=hub_id,
                name=name,
                rf_id=rf_id,
                model=model,
                context=context(request),
            )
        )
        return responses.legacy(None, "Shocker updated successfully")

    @router.delete("/1/shockers/{shockerId}", summary="Remove a shocker (its logs go with it)")
    async def remove_shocker(request: Request, caller: User, shockerId: UUID) -> Response:
        caller.require(Permission.SHOCKERS_EDIT)
        await bus.execute(
            RemoveShocker(caller=caller, shocker_id=shockerId, context=context(request))
        )
        return responses.legacy(None, "Shocker removed successfully")

    @router.post(
        "/1/shockers/{shockerId}/pause",
        summary="Pause or resume a shocker: answers the new state",
        openapi_extra=schemas.body(schemas.PAUSE),
    )
    async def pause_shocker(request: Request, caller: User, shockerId: UUID) -> Response:
        caller.require(Permission.SHOCKERS_PAUSE)
        body = Fields(await json_body(request))
        paused = body.boolean("pause")
        body.check()
        await bus.execute(
            PauseShocker(
                caller=caller, shocker_id=shockerId, paused=paused, context=context(request)
            )
        )
        return responses.legacy(paused)

    return router
