"""/1/tokens and /2/tokens: a user's API tokens, as OpenShock's tokens controller serves them.

The controller is the session scheme's: an API token cannot list, read, create or change
tokens (401, the token is not even looked at). Two routes differ: `self` is for API tokens
only, and DELETE takes either (a token may delete itself, and only itself).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from api.openshock import token_bodies
from api.openshock.auth import OpenShockAuth, context
from api.openshock.bodies import json_body
from api.openshock.errors import OpenShockProblem
from api.openshock.responses import empty_ok, raw
from api.openshock.schemas import body as body_schema
from domain.openshock.values import Caller
from domain.principals.commands import (
    ChangeApiToken,
    IssueApiToken,
    RevokeApiToken,
    SetApiTokenPaused,
)
from domain.principals.handlers import ApiTokenNotFound
from infra.command_bus import CommandBus
from infra.identity.credentials import mint_token
from infra.store.view_reader import ViewReader
from projections.api_token_view import ApiTokenRow, list_tokens

_VIEW = "api_tokens_v2"


def _not_found() -> ApiTokenNotFound:
    return ApiTokenNotFound("Api token not found")


def _live(row: ApiTokenRow, now: datetime) -> bool:
    return row.revoked_at is None and (
        row.expires_at is None or datetime.fromisoformat(row.expires_at) > now
    )


def openshock_tokens_router(bus: CommandBus, views: ViewReader, auth: OpenShockAuth) -> APIRouter:
    router = APIRouter(tags=["OpenShock: API tokens"])
    SessionCaller = Annotated[Caller, Depends(auth.cookie_caller)]
    TokenCaller = Annotated[Caller, Depends(auth.token_caller)]
    AnyCaller = Annotated[Caller, Depends(auth.caller)]

    async def tokens_of(caller: Caller) -> list[ApiTokenRow]:
        await views.fresh_views(_VIEW)
        rows = await views.query(list_tokens, str(caller.user_id))
        now = datetime.now(UTC)
        return [row for row in rows if _live(row, now)]

    async def token_of(caller: Caller, token_id: UUID) -> ApiTokenRow:
        for row in await tokens_of(caller):
            if row.id == str(token_id):
                return row
        raise _not_found()

    def version_routes(version: int) -> None:
        v2 = version == 2
        prefix = f"/{version}/tokens"
        show = token_bodies.token_v2 if v2 else token_bodies.token_v1

        @router.get(prefix, summary="My API tokens")
        async def list_my_tokens(caller: SessionCaller) -> Response:
            return raw([show(row) for row in await tokens_of(caller)])

        @router.get(f"{prefix}/self", summary="The API token this request came with")
        async def token_self(caller: TokenCaller) -> Response:
            token_id = UUID(caller.token.token_id) if caller.token is not None else None
            if token_id is None:  # token_caller lets only API tokens through
                raise _not_found()
            return raw(show(await token_of(caller, token_id)))

        @router.get(f"{prefix}/{{token_id}}", summary="One of my API tokens")
        async def get_token(token_id: UUID, caller: SessionCaller) -> Response:
            return raw(show(await token_of(caller, token_id)))

        @router.post(
            prefix,
            summary="Create an API token (shown once)",
            openapi_extra=body_schema(token_bodies.TOKEN_V2 if v2 else token_bodies.TOKEN_V1),
        )
        async def create_token(request: Request, caller: SessionCaller) -> Response:
            body = token_bodies.read_token(await json_body(request), v2, creating=True)
            token, token_hash = mint_token()
            at = datetime.now(UTC)
            token_id = await bus.execute(
                IssueApiToken(
                    name=body.name,
                    token_hash=token_hash,
                    permissions=body.permissions,
                    expires_at=body.valid_until,
                    owner=str(caller.user_id),
                    shocker_control=body.shocker_control,
                    context=context(request),
                )
            )
            return raw(token_bodies.created(str(token_id), token, body, at, v2))

        @router.patch(
            f"{prefix}/{{token_id}}",
            summary="Rename a token, change its permissions (v2: and its limits)",
            openapi_extra=body_schema(token_bodies.TOKEN_V2 if v2 else token_bodies.TOKEN_V1),
        )
        async def edit_token(request: Request, token_id: UUID, caller: SessionCaller) -> Response:
            body = token_bodies.read_token(await json_body(request), v2, creating=False)
            await bus.execute(
                ChangeApiToken(
                    token_id=token_id,
                    name=body.name,
                    permissions=body.permissions,
                    shocker_control=body.shocker_control,
                    owner=str(caller.user_id),
                    context=context(request),
                )
            )
            return empty_ok()

        @router.delete(f"{prefix}/{{token_id}}", summary="Delete a token (a token: only itself)")
        async def delete_token(request: Request, token_id: UUID, caller: AnyCaller) -> Response:
            if caller.token is not None and caller.token.token_id != str(token_id):
                raise OpenShockProblem(
                    "ApiToken.CanOnlyDeleteSelf",
                    "You can only delete your own api token in token authentication scope",
                    403,
                )
            await token_of(caller, token_id)  # a deleted token is not found again
            await bus.execute(
                RevokeApiToken(
                    token_id=token_id, owner=str(caller.user_id), context=context(request)
                )
            )
            return empty_ok()

    version_routes(1)
    version_routes(2)

    @router.patch(
        "/2/tokens/{token_id}/paused",
        summary="Pause a token: it may not control shockers while paused",
        openapi_extra=body_schema(token_bodies.PAUSED),
    )
    async def pause_token(request: Request, token_id: UUID, caller: SessionCaller) -> Response:
        paused = token_bodies.read_paused(await json_body(request))
        now_paused = await bus.execute(
            SetApiTokenPaused(
                token_id=token_id,
                paused=paused,
                owner=str(caller.user_id),
                context=context(request),
            )
        )
        return raw({"paused": bool(now_paused)})

    return router
