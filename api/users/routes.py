"""Administration: register, list and change the people who log in."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import RequestAuthenticator
from api.json_body import JsonBody, Sent
from api.problem import Problem, problem_responses
from domain.identity.commands import RegisterUser, UpdateAccount
from domain.principals.permissions import Principal
from infra.command_bus import CommandBus
from infra.identity.passwords import hash_password
from infra.request_context import command_context
from infra.store.view_reader import ViewReader
from projections.user_view import UserRow, list_users


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=8, max_length=1024)
    roles: list[str] = Field(default_factory=list, max_length=5)


class UserInfo(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    subject: str
    email: str
    name: str
    roles: list[str]
    created_at: str = Field(alias="createdAt")
    locked_until: str | None = Field(alias="lockedUntil")
    last_login_at: str | None = Field(alias="lastLoginAt")


def _info(row: UserRow) -> UserInfo:
    return UserInfo(
        subject=row.subject,
        email=row.email,
        name=row.name,
        roles=row.roles,
        createdAt=row.created_at,
        lockedUntil=row.locked_until,
        lastLoginAt=row.last_login_at,
    )


class UserChanges(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    temperature_scale: str | None = Field(default=None, alias="temperatureScale", max_length=20)
    language: str | None = Field(default=None, max_length=35)
    password: str | None = Field(default=None, min_length=8, max_length=1024)


def users_router(bus: CommandBus, views: ViewReader, auth: RequestAuthenticator) -> APIRouter:
    router = APIRouter(prefix="/api/v1/users", tags=["Users"])
    Auditor = Annotated[Principal, Depends(auth.require("users:read"))]
    new_user = JsonBody(NewUser, auth.require("users:create"))
    user_changes = JsonBody(UserChanges, auth.require("users:update"))

    @router.post(
        "",
        status_code=201,
        summary="Register a user",
        response_model=dict[str, str],
        responses=problem_responses(400, 401, 403, 413),
        openapi_extra=new_user.openapi,
    )
    async def create_user(
        request: Request,
        sent: Annotated[Sent[NewUser], Depends(new_user.dependency())],
    ) -> dict[str, str]:
        body, principal = sent
        try:
            password_hash = await run_in_threadpool(hash_password, body.password)
        except ValueError as exc:
            raise Problem(400, str(exc)) from exc
        subject = await bus.execute(
            RegisterUser(
                email=body.email,
                name=body.name,
                password_hash=password_hash,
                roles=tuple(body.roles),
                context=command_context(request, principal),
            )
        )
        return {"subject": str(subject)}

    @router.get(
        "",
        summary="List users",
        response_model=list[UserInfo],
        response_model_by_alias=True,
        responses=problem_responses(401, 403),
    )
    async def users(request: Request, principal: Auditor) -> list[UserInfo]:
        await views.fresh_views("users")
        return [_info(row) for row in await views.query(list_users)]

    @router.patch(
        "/{subject}",
        status_code=204,
        summary="Change a user's settings or password",
        responses=problem_responses(400, 401, 403, 404, 413),
        openapi_extra=user_changes.openapi,
    )
    async def change_user(
        request: Request,
        subject: str,
        sent: Annotated[Sent[UserChanges], Depends(user_changes.dependency())],
    ) -> Response:
        body, principal = sent
        password_hash = None
        if body.password is not None:
            try:
                password_hash = await run_in_threadpool(hash_password, body.password)
            except ValueError as exc:
                raise Problem(400, str(exc)) from exc
        await bus.execute(
            UpdateAccount(
                subject=subject,
                name=body.name,
                temperature_scale=body.temperature_scale,
                language=body.language,
                password_hash=password_hash,
                context=command_context(request, principal),
            )
        )
        return Response(status_code=204)

    return router
