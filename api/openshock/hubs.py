"""OpenShock hubs ("devices"), the user's side: /1/devices and /2/devices.

Another user's hub is answered exactly as a missing one (404 Device.NotFound). A token's
permission is checked before its body is read, as the real API's filters run before model
binding. Reads wait until the views hold the caller's own writes (read-your-writes).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

import secrets
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from api.openshock import responses, schemas
from api.openshock.auth import OpenShockAuth, context
from api.openshock.bodies import Fields, json_body
from api.openshock.gateway_address import Gateway, GatewayAddress
from domain.openshock.commands import (
    CreateHub,
    DeleteHub,
    IssuePairCode,
    RegenerateHubToken,
    RenameHub,
)
from domain.openshock.errors import HubNotFound, HubNotOnline, PairCodeTaken
from domain.openshock.values import Caller, Permission
from infra.command_bus import CommandBus
from infra.openshock.hub_tokens import SealedHubTokens
from infra.store.view_reader import ViewReader
from projections.openshock_hub_link_view import HubStatus, OtaRow, hub_status, ota_history
from projections.openshock_hub_view import hubs_of, own_hub, shockers_of_hub
from projections.openshock_share_view import shared_with
from projections.view_store import ViewTransaction

HUB_VIEWS = ("openshock_hubs",)
_SHARE_VIEWS = ("openshock_hubs", "openshock_user_shares", "openshock_hub_links")
_OTA_VIEWS = ("openshock_hubs", "openshock_hub_links")
# A drawn pair code may be another hub's live code; drawing again this often finds a free one
# unless nearly all 900,000 codes are live at once.
_PAIR_CODE_DRAWS = 8


def _may_reach(tx: ViewTransaction, user_id: str, hub_id: str) -> bool:
    """The owner, or anyone a shocker of the hub is shared with (the real API's LCG rule)."""
    if own_hub(tx, user_id, hub_id) is not None:
        return True
    return any(hub.id == hub_id for owner in shared_with(tx, user_id) for hub in owner.hubs)


def _reachable_status(tx: ViewTransaction, user_id: str, hub_id: str) -> HubStatus | None:
    """The hub's link state if the user may reach it (None: not theirs, nor shared)."""
    if not _may_reach(tx, user_id, hub_id):
        return None
    status = hub_status(tx, hub_id)
    return status or HubStatus(hub_id, "", False, None, 0, 0, None)


def _own_updates(tx: ViewTransaction, user_id: str, hub_id: str) -> list[OtaRow] | None:
    if own_hub(tx, user_id, hub_id) is None:
        return None
    return ota_history(tx, hub_id)


def hubs_router(
    bus: CommandBus,
    views: ViewReader,
    auth: OpenShockAuth,
    gateway: GatewayAddress,
    hub_tokens: SealedHubTokens,
) -> APIRouter:
    router = APIRouter(tags=["OpenShock hubs"])
    User = Annotated[Caller, Depends(auth.caller)]
    SessionUser = Annotated[Caller, Depends(auth.session_caller)]

    async def _own(caller: Caller, hub_id: UUID) -> None:
        await views.fresh_views(*HUB_VIEWS)
        if await views.query(own_hub, str(caller.user_id), str(hub_id)) is None:
            raise HubNotFound()

    async def _create(request: Request, caller: Caller, name: str) -> Response:
        minted = hub_tokens.mint()
        hub_id = await bus.execute(
            CreateHub(
                caller=caller,
                name=name,
                token_hash=minted.token_hash,
                sealed_token=minted.sealed,
                context=context(request),
            )
        )
        return responses.raw(str(hub_id), 201, {"Location": f"/1/devices/{hub_id}"})

    @router.get("/1/devices", summary="The caller's hubs")
    async def list_hubs(caller: User) -> Response:
        await views.fresh_views(*HUB_VIEWS)
        rows = await views.query(hubs_of, str(caller.user_id))
        return responses.legacy([responses.hub(r) for r in rows])

    @router.post("/1/devices", status_code=201, summary="Create a hub named after today")
    async def create_hub_v1(request: Request, caller: User) -> Response:
        caller.require(Permission.DEVICES_EDIT)
        # The real API's name: "New Hub" and the short date, as .NET writes it invariantly.
        return await _create(request, caller, f"New Hub {datetime.now(UTC):%m/%d/%Y}")

    @router.post(
        "/2/devices",
        status_code=201,
        summary="Create a hub (at most 4): answers its id, a bare JSON string",
        openapi_extra=schemas.body(schemas.HUB_NAME),
    )
    async def create_hub(request: Request, caller: User) -> Response:
        caller.require(Permission.DEVICES_EDIT)
        body = Fields(await json_body(request))
        name = body.text("name")
        body.check()
        return await _create(request, caller, name)

    @router.get("/1/devices/{deviceId}", summary="One of the caller's hubs")
    async def get_hub(caller: User, deviceId: UUID) -> Response:
        await views.fresh_views(*HUB_VIEWS)
        row = await views.query(own_hub, str(caller.user_id), str(deviceId))
        if row is None:
            raise HubNotFound()
        token = None
        if caller.allows(Permission.DEVICES_AUTH):
            token = await run_in_threadpool(hub_tokens.shown_to_owner, deviceId, caller.user_id)
        return responses.legacy(responses.hub_with_token(row, token))

    @router.patch(
        "/1/devices/{deviceId}",
        summary="Rename a hub",
        openapi_extra=schemas.body(schemas.HUB_NAME),
    )
    async def rename_hub(request: Request, caller: User, deviceId: UUID) -> Response:
        caller.require(Permission.DEVICES_EDIT)
        body = Fields(await json_body(request))
        name = body.text("name")
        body.check()
        await bus.execute(
            RenameHub(caller=caller, hub_id=deviceId, name=name, context=context(request))
        )
        return responses.empty_ok()

    @router.put(
        "/1/devices/{deviceId}",
        summary="Regenerate a hub's token: answers the new token (plain text)",
    )
    async def regenerate_hub_token(request: Request, caller: User, deviceId: UUID) -> Response:
        caller.require(Permission.DEVICES_EDIT)
        minted = hub_tokens.mint()
        await bus.execute(
            RegenerateHubToken(
                caller=caller,
                hub_id=deviceId,
                token_hash=minted.token_hash,
                sealed_token=minted.sealed,
                context=context(request),
            )
        )
        # The real API answers a string result as text/plain.
        return Response(minted.token, media_type="text/plain; charset=utf-8")

    @router.delete("/1/devices/{deviceId}", summary="Delete a hub and its shockers")
    async def delete_hub(request: Request, caller: User, deviceId: UUID) -> Response:
        caller.require(Permission.DEVICES_EDIT)
        await bus.execute(DeleteHub(caller=caller, hub_id=deviceId, context=context(request)))
        return responses.empty_ok()

    @router.get(
        "/1/devices/{deviceId}/pair",
        summary="A 6-digit pair code for the hub, live 15 minutes; a new one ends the last",
    )
    async def pair_code(request: Request, caller: User, deviceId: UUID) -> Response:
        caller.require(Permission.DEVICES_EDIT)
        recorded = context(request)
        for _ in range(_PAIR_CODE_DRAWS):
            code = str(100_000 + secrets.randbelow(900_000))
            try:
                await bus.execute(
                    IssuePairCode(
                        caller=caller,
                        hub_id=deviceId,
                        code=code,
                        now=datetime.now(UTC),
                        context=recorded,
                    )
                )
            except PairCodeTaken:
                continue
            return responses.legacy(code)
        raise PairCodeTaken("No free pair code was found; try again")

    @router.get("/1/devices/{deviceId}/shockers", summary="A hub's shockers")
    async def hub_shockers(caller: User, deviceId: UUID) -> Response:
        await _own(caller, deviceId)
        rows = await views.query(shockers_of_hub, str(deviceId))
        return responses.legacy([responses.shocker(r) for r in rows])

    async def _gateway_of(request: Request, caller: Caller, hub_id: UUID) -> Gateway:
        await views.fresh_views(*_SHARE_VIEWS)
        status = await views.query(_reachable_status, str(caller.user_id), str(hub_id))
        if status is None:
            raise HubNotFound()
        if not status.online:
            raise HubNotOnline()
        return gateway.for_request(request)

    @router.get("/1/devices/{deviceId}/lcg", summary="The gateway a hub's live control uses")
    async def hub_gateway_v1(request: Request, caller: User, deviceId: UUID) -> Response:
        found = await _gateway_of(request, caller, deviceId)
        # The host, with the port when it is not 443: clients dial wss://{gateway}/...
        return responses.legacy({"gateway": found.fqdn, "country": found.country})

    @router.get("/2/devices/{deviceId}/lcg", summary="The gateway a hub's live control uses")
    async def hub_gateway(request: Request, caller: User, deviceId: UUID) -> Response:
        found = await _gateway_of(request, caller, deviceId)
        return responses.raw(
            {
                "host": found.host,
                "port": found.port,
                "pathPrefix": found.path_prefix,
                "country": found.country,
            }
        )

    @router.get("/1/devices/{deviceId}/ota", summary="A hub's firmware updates (session only)")
    async def hub_updates(caller: SessionUser, deviceId: UUID) -> Response:
        await views.fresh_views(*_OTA_VIEWS)
        rows = await views.query(_own_updates, str(caller.user_id), str(deviceId))
        if rows is None:
            raise HubNotFound()
        return responses.legacy(
            [
                {
                    "id": row.update_id,
                    "startedAt": responses.utc(row.started_at),
                    "status": row.status,
                    "version": row.version,
                    "message": row.message,
                }
                for row in rows
            ]
        )

    return router
