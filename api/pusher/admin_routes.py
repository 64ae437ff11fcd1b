"""/api/v1/pusher/apps: Pusher apps for administrators (pusherApps:read, pusherApps:update)."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from collections.abc import Callable
from dataclasses import fields, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import RequestAuthenticator
from api.json_body import JsonBody, Sent
from api.problem import Problem, problem_responses
from domain.commands import Command
from domain.principals.permissions import Principal
from domain.pusher.apps import AppLimits, Webhook
from domain.pusher.commands import (
    CreatePusherApp,
    RenamePusherApp,
    RotatePusherAppSecret,
    SetPusherAppEnabled,
    SetPusherAppLimits,
    SetPusherAppWebhooks,
)
from domain.pusher.pusher_app import limits_from_dict
from infra.command_bus import CommandBus
from infra.pusher.credentials import mint_app_id, mint_key, mint_secret
from infra.pusher.webhooks import Attempt, attempts_in
from infra.request_context import command_context
from infra.store.view_reader import ViewReader
from projections.pusher_app_view import PusherAppRow, app_by_id, list_apps

_VIEW = "pusher_apps"


class Limits(BaseModel):
    """Any subset of the limits; those left out keep their value (Sockudo's on creation)."""

    model_config = ConfigDict(extra="forbid")

    max_connections: int | None = Field(default=None, ge=1, le=10_000_000)
    client_events: bool | None = None
    max_event_payload_bytes: int | None = Field(default=None, ge=1, le=10 * 1024 * 1024)
    max_channels_per_trigger: int | None = Field(default=None, ge=1, le=1000)
    max_events_per_batch: int | None = Field(default=None, ge=1, le=1000)
    max_event_name_length: int | None = Field(default=None, ge=1, le=1000)
    max_channel_name_length: int | None = Field(default=None, ge=1, le=1000)
    max_presence_members: int | None = Field(default=None, ge=1, le=100_000)
    max_presence_member_bytes: int | None = Field(default=None, ge=1, le=1024 * 1024)
    max_client_events_per_second: int | None = Field(default=None, ge=1, le=100_000)
    subscription_count_events: bool | None = None


class WebhookSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000)
    event_types: list[str] = Field(min_length=1, max_length=10)
    channel_prefix: str | None = Field(default=None, max_length=200)


class NewApp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    app_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    limits: Limits | None = None
    webhooks: list[WebhookSpec] = Field(default_factory=list, max_length=10)


class AppChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool | None = None
    limits: Limits | None = None
    webhooks: list[WebhookSpec] | None = Field(default=None, max_length=10)
    # `max_connections: null` in `limits` can't say "no quota"; this does.
    unlimited_connections: bool = False


class AppInfo(BaseModel):
    app_id: str
    key: str
    name: str
    enabled: bool
    limits: dict[str, Any]
    webhooks: list[dict[str, Any]]
    created_at: str
    updated_at: str


class AppCredentials(BaseModel):
    app_id: str
    key: str
    secret: str = Field(description="Shown once; kept only sealed with the master key.")


class WebhookAttempt(BaseModel):
    url: str
    at_ms: int = Field(description="When the request was made, in ms since the epoch.")
    events: int = Field(description="How many events the request carried.")
    status: int | None = Field(description="The endpoint's HTTP status; null: no answer.")
    outcome: str = Field(description='"delivered", "retrying", "gave up" or "no app".')
    error: str


def _attempt(attempt: Attempt) -> WebhookAttempt:
    return WebhookAttempt(
        url=attempt.url,
        at_ms=attempt.at_ms,
        events=attempt.events,
        status=attempt.status,
        outcome=attempt.outcome,
        error=attempt.error,
    )


def _info(row: PusherAppRow) -> AppInfo:
    return AppInfo(
        app_id=row.app_id,
        key=row.key,
        name=row.name,
        enabled=row.enabled,
        limits=row.limits,
        webhooks=row.webhooks,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _limits(base: AppLimits, given: Limits | None, unlimited: bool = False) -> AppLimits:
    changes = {
        f.name: getattr(given, f.name)
        for f in fields(AppLimits)
        if given is not None and getattr(given, f.name) is not None
    }
    if unlimited:
        changes["max_connections"] = None
    return replace(base, **changes)


def _webhooks(specs: list[WebhookSpec]) -> tuple[Webhook, ...]:
    return tuple(Webhook(s.url, tuple(s.event_types), s.channel_prefix) for s in specs)


def pusher_admin_router(
    bus: CommandBus,
    views: ViewReader,
    auth: RequestAuthenticator,
    seal_secret: Callable[[str], str],
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/pusher/apps", tags=["Pusher apps"])
    Reader = Annotated[Principal, Depends(auth.require("pusherApps:read"))]
    Updater = Annotated[Principal, Depends(auth.require("pusherApps:update"))]
    new_app = JsonBody(NewApp, auth.require("pusherApps:update"))
    changes = JsonBody(AppChanges, auth.require("pusherApps:update"))

    async def current(app_id: str) -> PusherAppRow:
        await views.fresh_views(_VIEW)
        row = await views.query(app_by_id, app_id)
        if row is None:
            raise Problem(404, f"no app {app_id}")
        return row

    @router.get(
        "",
        summary="List Pusher apps (never their secrets)",
        response_model=list[AppInfo],
        responses=problem_responses(401, 403),
    )
    async def apps(principal: Reader) -> list[AppInfo]:
        await views.fresh_views(_VIEW)
        return [_info(row) for row in await views.query(list_apps)]

    @router.post(
        "",
        status_code=201,
        summary="Create a Pusher app",
        response_model=AppCredentials,
        responses=problem_responses(400, 401, 403, 413),
        openapi_extra=new_app.openapi,
    )
    async def create_app(
        request: Request, sent: Annotated[Sent[NewApp], Depends(new_app.dependency())]
    ) -> AppCredentials:
        body, principal = sent
        app_id = body.app_id or mint_app_id()
        key, secret = mint_key(), mint_secret()
        await bus.execute(
            CreatePusherApp(
                app_id=app_id,
                key=key,
                sealed_secret=seal_secret(secret),
                name=body.name,
                limits=_limits(AppLimits(), body.limits),
                webhooks=_webhooks(body.webhooks),
                context=command_context(request, principal),
            )
        )
        return AppCredentials(app_id=app_id, key=key, secret=secret)

    @router.get(
        "/{app_id}",
        summary="One Pusher app",
        response_model=AppInfo,
        responses=problem_responses(401, 403, 404),
    )
    async def one_app(app_id: str, principal: Reader) -> AppInfo:
        return _info(await current(app_id))

    @router.get(
        "/{app_id}/webhooks",
        summary="A Pusher app's latest webhook delivery attempts, newest first",
        description="Kept for a day; what `hubline apps webhooks APP_ID` prints.",
        response_model=list[WebhookAttempt],
        responses=problem_responses(400, 401, 403, 404),
    )
    async def webhook_attempts(
        app_id: str,
        principal: Reader,
        last: Annotated[int, Query(ge=1, le=1000, description="How many attempts.")] = 50,
    ) -> list[WebhookAttempt]:
        await current(app_id)
        return [_attempt(a) for a in await views.query(attempts_in, app_id, last)]

    @router.patch(
        "/{app_id}",
        status_code=204,
        summary="Change a Pusher app's name, state, limits or webhooks",
        responses=problem_responses(400, 401, 403, 404, 413),
        openapi_extra=changes.openapi,
    )
    async def change_app(
        request: Request,
        app_id: str,
        sent: Annotated[Sent[AppChanges], Depends(changes.dependency())],
    ) -> Response:
        body, principal = sent
        row = await current(app_id)
        context = command_context(request, principal)
        commands: list[Command] = []
        if body.name is not None:
            commands.append(RenamePusherApp(app_id=app_id, name=body.name, context=context))
        if body.enabled is not None:
            commands.append(
                SetPusherAppEnabled(app_id=app_id, enabled=body.enabled, context=context)
            )
        if body.limits is not None or body.unlimited_connections:
            limits = _limits(limits_from_dict(row.limits), body.limits, body.unlimited_connections)
            commands.append(SetPusherAppLimits(app_id=app_id, limits=limits, context=context))
        if body.webhooks is not None:
            commands.append(
                SetPusherAppWebhooks(
                    app_id=app_id, webhooks=_webhooks(body.webhooks), context=context
                )
            )
        for command in commands:
            await bus.execute(command)
        return Response(status_code=204)

    @router.post(
        "/{app_id}/secret",
        summary="Rotate a Pusher app's secret; the old one stops working",
        response_model=AppCredentials,
        responses=problem_responses(401, 403, 404),
    )
    async def rotate_secret(request: Request, app_id: str, principal: Updater) -> AppCredentials:
        row = await current(app_id)
        secret = mint_secret()
        await bus.execute(
            RotatePusherAppSecret(
                app_id=app_id,
                sealed_secret=seal_secret(secret),
                context=command_context(request, principal),
            )
        )
        return AppCredentials(app_id=app_id, key=row.key, secret=secret)

    return router
