"""/audit/events: the log for auditors, paged by position, with who did what."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from api.auth import RequestAuthenticator
from api.problem import Problem, problem_responses
from domain.principals.permissions import Principal
from infra.store.view_reader import ViewReader
from projections.audit_view import AuditFilter, query_audit
from projections.records import MAX_POSITION


def _utc(name: str, moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # 9999-12-31T23:59:59-01:00 parses, but no UTC date can hold it.
        raise Problem(400, f"{name} is outside the range of dates") from None


def audit_router(views: ViewReader, auth: RequestAuthenticator) -> APIRouter:
    router = APIRouter(prefix="/audit", tags=["Audit"])
    Auditor = Annotated[Principal, Depends(auth.require("audit:read"))]

    @router.get(
        "/events",
        summary="Page through the event log",
        responses=problem_responses(400, 401, 403),
    )
    async def audit_events(
        request: Request,
        principal: Auditor,
        after: Annotated[
            int,
            Query(ge=0, le=MAX_POSITION, description="Return events after this position"),
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        aggregate_id: Annotated[str | None, Query(alias="aggregateId", max_length=100)] = None,
        event_type: Annotated[str | None, Query(alias="type", max_length=200)] = None,
        since: Annotated[datetime | None, Query(description="ISO-8601, inclusive")] = None,
        until: Annotated[datetime | None, Query(description="ISO-8601, exclusive")] = None,
    ) -> dict[str, Any]:
        await views.fresh_views("audit")
        items = await views.query(
            query_audit,
            AuditFilter(
                after=after,
                limit=limit,
                aggregate_id=aggregate_id,
                event_type=event_type,
                since=_utc("since", since),
                until=_utc("until", until),
            ),
        )
        return {"items": items, "next": items[-1]["position"] if len(items) == limit else None}

    return router
