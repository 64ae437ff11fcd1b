"""/1/sessions: a user's login sessions, listed and ended (the session scheme only)."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from api.openshock.auth import OpenShockAuth, context, principal_of
from api.openshock.responses import empty_ok, raw, utc
from domain.identity.commands import RevokeLoginSession
from domain.identity.login_sessions import SessionNotFound
from domain.openshock.values import Caller
from infra.command_bus import CommandBus
from infra.store.view_reader import ViewReader
from projections.login_session_view import LoginSessionRow, get_session, list_sessions

_VIEW = "login_sessions"


def _time(stored: str | None) -> str | None:
    return None if stored is None else utc(datetime.fromisoformat(stored))


def session_view(row: LoginSessionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "ip": row.address,
        "userAgent": row.user_agent,
        "created": _time(row.created_at),
        "expires": _time(row.expires_at),
        "lastUsed": _time(row.last_used_at),
    }


def sessions_router(bus: CommandBus, views: ViewReader, auth: OpenShockAuth) -> APIRouter:
    router = APIRouter(prefix="/1/sessions", tags=["OpenShock: sessions"])
    SessionCaller = Annotated[Caller, Depends(auth.cookie_caller)]

    @router.get("", summary="My live sessions")
    async def my_sessions(caller: SessionCaller) -> Response:
        await views.fresh_views(_VIEW)
        rows = await views.query(list_sessions, str(caller.user_id), datetime.now(UTC))
        return raw([session_view(row) for row in rows])

    @router.get("/self", summary="The session this request came with")
    async def this_session(request: Request, caller: SessionCaller) -> Response:
        principal = principal_of(request)
        await views.fresh_views(_VIEW)
        row = (
            await views.query(get_session, principal.credential_id)
            if principal is not None and principal.credential_id
            else None
        )
        if row is None or row.subject != str(caller.user_id):
            raise SessionNotFound("The session was not found")
        return raw(session_view(row))

    @router.delete("/{session_id}", summary="End one of my sessions")
    async def end_session(request: Request, session_id: UUID, caller: SessionCaller) -> Response:
        # An ended session is gone, as the real backend deletes it: not found a second time.
        await views.fresh_views(_VIEW)
        row = await views.query(get_session, str(session_id))
        if row is None or row.subject != str(caller.user_id):
            raise SessionNotFound("The session was not found")
        await bus.execute(
            RevokeLoginSession(
                grant_id=session_id,
                subject=str(caller.user_id),
                reason="ended by its user",
                context=context(request),
            )
        )
        return empty_ok()

    return router
