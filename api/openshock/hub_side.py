"""OpenShock's hub-side routes (/1/device/..., /2/device/...): pairing, a hub's own
description, and which gateway it should dial.

Pairing is anonymous: the 6-digit code is the credential, good once. The hub is handed a
fresh token, so one its owner read before pairing stops working once a hub holds one.
The other routes take the hub's token (DeviceToken / Device-Token).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.openshock import responses
from api.openshock.auth import OpenShockAuth
from api.openshock.errors import OpenShockProblem
from api.openshock.gateway_address import GatewayAddress
from domain.openshock.commands import RedeemPairCode
from domain.openshock.errors import HubNotFound
from domain.principals.permissions import Principal
from infra.command_bus import CommandBus
from infra.openshock.hub_tokens import SealedHubTokens
from infra.request_context import command_context
from infra.store.view_reader import ViewReader
from projections.openshock_hub_view import HubRow, ShockerRow, hub_by_id, shockers_of_hub
from projections.view_store import ViewTransaction

_VIEWS = ("openshock_hubs",)
# The hub websocket's path per FlatBuffers schema version (GET /2/device/assignLCG?version=).
# Version 1 names a path no gateway serves, as the real API does (old firmware uses /1/ws/device).
_HUB_PATHS = {1: "/1/ws/hub", 2: "/2/ws/hub"}
_ANONYMOUS = Principal("anonymous", "anonymous", frozenset())
# Codes are 6 digits; a longer path segment is refused before any work.
PairCodeText = Annotated[str, Path(max_length=64)]
# Declared for the documentation; read by hand (assign_gateway).
SchemaVersion = Annotated[str | None, Query(max_length=16, description="1 or 2")]


def _hub_and_shockers(tx: ViewTransaction, hub_id: str) -> tuple[HubRow | None, list[ShockerRow]]:
    return hub_by_id(tx, hub_id), shockers_of_hub(tx, hub_id)


def _bad_schema_version() -> OpenShockProblem:
    return OpenShockProblem(
        "AssignLcg.BadSchemaVersion",
        "The version you specified is not supported",
        400,
        "Supported versions are 1 and 2",
    )


def hub_side_router(
    bus: CommandBus,
    views: ViewReader,
    auth: OpenShockAuth,
    gateway: GatewayAddress,
    hub_tokens: SealedHubTokens,
) -> APIRouter:
    router = APIRouter(tags=["OpenShock hub"])
    HubId = Annotated[UUID, Depends(auth.hub)]

    async def _pair(request: Request, code: str) -> Response:
        minted = hub_tokens.mint()
        await bus.execute(
            RedeemPairCode(
                code=code,
                token_hash=minted.token_hash,
                sealed_token=minted.sealed,
                now=datetime.now(UTC),
                context=command_context(request, _ANONYMOUS),
            )
        )
        return responses.legacy(minted.token)

    @router.get(
        "/1/device/pair/{pairCode}",
        summary="Pair a hub: the code (once) is exchanged for the hub's token",
    )
    async def pair(request: Request, pairCode: PairCodeText) -> Response:
        return await _pair(request, pairCode)

    # The real API still serves the path older firmware calls, undocumented.
    @router.get("/1/pair/{pairCode}", include_in_schema=False)
    async def pair_legacy(request: Request, pairCode: PairCodeText) -> Response:
        return await _pair(request, pairCode)

    @router.get("/1/device/self", summary="The hub's own name and shockers (hub token)")
    async def hub_self(hub_id: HubId) -> Response:
        await views.fresh_views(*_VIEWS)
        hub, shockers = await views.query(_hub_and_shockers, str(hub_id))
        if hub is None:  # deleted since its token was checked
            raise HubNotFound()
        return responses.legacy(
            {
                "id": hub.id,
                "name": hub.name,
                "shockers": [responses.minimal_shocker(s) for s in shockers],
            }
        )

    @router.get("/1/device/assignLCG", summary="The gateway a hub dials (schema v1 firmware)")
    async def assign_gateway_v1(request: Request, hub_id: HubId) -> Response:
        found = gateway.for_request(request)
        return responses.legacy({"fqdn": found.fqdn, "country": found.country})

    @router.get(
        "/2/device/assignLCG",
        summary="The gateway a hub dials: ?version=2 (or 1); any other version is a 400",
    )
    async def assign_gateway(
        request: Request, hub_id: HubId, version: SchemaVersion = None
    ) -> Response:
        # Read by hand: the real API reads a missing or unreadable version as 0, refused
        # as a bad schema version rather than a validation error.
        raw = version or ""
        path = _HUB_PATHS.get(int(raw)) if raw.isdigit() and len(raw) < 6 else None
        if path is None:
            raise _bad_schema_version()
        found = gateway.for_request(request)
        return responses.raw(
            {
                "host": found.host,
                "port": found.port,
                "path": found.path_prefix + path,
                "country": found.country,
            }
        )

    return router
