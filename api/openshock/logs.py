"""OpenShock control logs: one shocker's (GET /1/shockers/{id}/logs, newest first) and the
paged logs of all the caller's shockers (GET /1/shockers/logs).

Only the owner reads a shocker's logs. A share-link guest shows as Guest (the all-zero id)
with the name they gave as customName. The paged route clamps page and pageSize as the
real API does (page >= 1, pageSize 1..200) and ignores what it does not know (the SDK's
offset and limit).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from api.openshock import responses
from api.openshock.auth import OpenShockAuth
from domain.openshock.errors import ShockerNotFound
from domain.openshock.values import Caller
from infra.store.view_reader import ViewReader
from projections.openshock_control_log_view import (
    DEFAULT_PAGE_SIZE,
    ControlLog,
    LogPageQuery,
    owner_logs,
    shocker_logs,
)
from projections.openshock_hub_view import own_shocker
from projections.view_store import ViewTransaction

# The logs name shockers and hubs (hubs view) and senders (users view).
_VIEWS = ("openshock_control_logs", "openshock_hubs", "users")
_UINT = 4_294_967_295  # the real API reads these as uint: past it, a validation error
SortDirection = Literal["Asc", "Desc", "asc", "desc", "ASC", "DESC"]


def _own_logs(
    tx: ViewTransaction, owner_id: str, shocker_id: str, offset: int, limit: int
) -> list[ControlLog] | None:
    if own_shocker(tx, owner_id, shocker_id) is None:
        return None
    return shocker_logs(tx, shocker_id, offset, limit)


def logs_router(views: ViewReader, auth: OpenShockAuth) -> APIRouter:
    router = APIRouter(tags=["OpenShock logs"])
    User = Annotated[Caller, Depends(auth.caller)]

    @router.get("/1/shockers/logs", summary="The caller's control logs, paged")
    async def all_logs(
        caller: User,
        page: Annotated[int, Query(ge=0, le=_UINT)] = 1,
        pageSize: Annotated[int, Query(ge=0, le=_UINT)] = DEFAULT_PAGE_SIZE,
        shockerIds: Annotated[list[UUID] | None, Query(max_length=500)] = None,
        sort: Annotated[str | None, Query(max_length=64)] = None,
        sortDir: Annotated[SortDirection, Query()] = "Desc",
        search: Annotated[str | None, Query(max_length=256)] = None,
    ) -> Response:
        await views.fresh_views(*_VIEWS)
        query = LogPageQuery(
            page=page,
            page_size=pageSize,
            shocker_ids=tuple(str(s) for s in shockerIds or ()),
            sort=(sort or "").strip() or None,
            descending=sortDir.lower() == "desc",
        )
        found = await views.query(owner_logs, str(caller.user_id), query)
        return responses.raw(responses.log_page(found))

    @router.get("/1/shockers/{shockerId}/logs", summary="A shocker's control logs, newest first")
    async def logs_of_shocker(
        caller: User,
        shockerId: UUID,
        offset: Annotated[int, Query(ge=0, le=_UINT)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> Response:
        await views.fresh_views(*_VIEWS)
        found = await views.query(_own_logs, str(caller.user_id), str(shockerId), offset, limit)
        if found is None:
            raise ShockerNotFound()
        return responses.legacy([responses.log_entry(log) for log in found])

    return router
