"""/api/v1/tokens: API tokens their owners create, list and revoke (shown once, stored hashed)."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import RequestAuthenticator
from api.json_body import JsonBody, Sent
from api.problem import Problem, problem_responses
from domain.principals.commands import IssueApiToken, RevokeApiToken
from domain.principals.permissions import Principal, may_give_to_api_token, parse_permissions
from infra.command_bus import CommandBus
from infra.identity.credentials import mint_token
from infra.request_context import command_context
from infra.store.view_reader import ViewReader
from projections.api_token_view import ApiTokenRow, list_tokens


class CreateToken(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    permissions: list[str] = Field(max_length=50)
    # Strict: a JSON true, "30" or 1.5 is refused rather than read as a number of days.
    valid_for_days: int | None = Field(
        default=None, alias="validForDays", strict=True, gt=0, le=3650
    )


class TokenInfo(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    name: str
    permissions: list[str]
    created_at: str = Field(alias="createdAt")
    expires_at: str | None = Field(alias="expiresAt")
    revoked_at: str | None = Field(alias="revokedAt")
    last_used_at: str | None = Field(alias="lastUsedAt")


class CreatedToken(TokenInfo):
    token: str = Field(description="Shown once; only its hash is kept.")


def _info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        permissions=row.permissions,
        createdAt=row.created_at,
        expiresAt=row.expires_at,
        revokedAt=row.revoked_at,
        lastUsedAt=row.last_used_at,
    )


def _owner(principal: Principal) -> str:
    if principal.kind != "user":
        raise Problem(403, "only a user (or a token acting for one) owns API tokens")
    return principal.id


def tokens_router(bus: CommandBus, views: ViewReader, auth: RequestAuthenticator) -> APIRouter:
    router = APIRouter(prefix="/api/v1/tokens", tags=["API tokens"])
    Reader = Annotated[Principal, Depends(auth.require("tokens:read"))]
    Deleter = Annotated[Principal, Depends(auth.require("tokens:delete"))]
    new_token = JsonBody(CreateToken, auth.require("tokens:create"))

    @router.get(
        "",
        summary="List my API tokens",
        response_model=list[TokenInfo],
        response_model_by_alias=True,
        responses=problem_responses(401, 403),
    )
    async def my_tokens(request: Request, principal: Reader) -> list[TokenInfo]:
        await views.fresh_views("api_tokens_v2")
        rows = await views.query(list_tokens, _owner(principal))
        return [_info(row) for row in rows]

    @router.post(
        "",
        status_code=201,
        summary="Create an API token",
        response_model=CreatedToken,
        response_model_by_alias=True,
        responses=problem_responses(400, 401, 403, 413),
        openapi_extra=new_token.openapi,
    )
    async def create_token(
        request: Request,
        sent: Annotated[Sent[CreateToken], Depends(new_token.dependency())],
    ) -> CreatedToken:
        body, principal = sent
        owner = _owner(principal)
        try:
            permissions = parse_permissions(body.permissions)
        except ValueError as exc:
            raise Problem(400, str(exc)) from exc
        beyond = sorted(p for p in permissions if not may_give_to_api_token(principal, p))
        if beyond:
            raise Problem(
                403,
                "a token can hold only permissions your role gives you"
                f" (not those a client's scope lends): {', '.join(beyond)}",
            )
        expires_at = (
            datetime.now(UTC) + timedelta(days=body.valid_for_days) if body.valid_for_days else None
        )
        token, token_hash = mint_token()
        token_id = await bus.execute(
            IssueApiToken(
                name=body.name,
                token_hash=token_hash,
                permissions=permissions,
                expires_at=expires_at,
                owner=owner,
                context=command_context(request, principal),
            )
        )
        return CreatedToken(
            id=str(token_id),
            name=body.name.strip(),
            permissions=list(permissions),
            createdAt=datetime.now(UTC).isoformat(),
            expiresAt=expires_at.isoformat() if expires_at else None,
            revokedAt=None,
            lastUsedAt=None,
            token=token,
        )

    @router.delete(
        "/{token_id}",
        status_code=204,
        summary="Revoke one of my API tokens",
        responses=problem_responses(401, 403, 404),
    )
    async def revoke_token(request: Request, token_id: str, principal: Deleter) -> Response:
        owner = _owner(principal)
        try:
            parsed = UUID(token_id)
        except ValueError:
            raise Problem(404, f"no token {token_id}") from None
        await bus.execute(
            RevokeApiToken(
                token_id=parsed, owner=owner, context=command_context(request, principal)
            )
        )
        return Response(status_code=204)

    return router
