"""Pusher's HTTP API (/apps/{app_id}/…): triggers, channel queries, terminate_connections.

Every request is signed with the app's secret (signed_requests.py) and checked before its
body is read; limits are the app's own. A trigger is answered once its event is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.pusher.channel_queries import ChannelQueries
from api.pusher.errors import PusherError
from api.pusher.signed_requests import SignedRequests
from api.pusher.triggers import (
    RequestedTrigger,
    body_bound,
    json_object,
    parse_event,
    parse_info,
)
from domain.principals.permissions import Principal
from domain.pusher.apps import AppConfig, AppDirectory
from domain.pusher.channel_names import channel_name_problem, is_presence, user_id_problem
from domain.pusher.commands import TerminatePusherUserConnections, TriggerPusherEvents
from infra.command_bus import CommandBus
from infra.limits.rate_limits import RateLimiter
from infra.request_context import command_context
from projections.pusher_cache_view import is_cache_channel

# Where Pusher's HTTP API lives (also under a deployment's path prefix).
PUSHER_PATHS = ("/apps/", "/users/")
Route = Callable[..., Coroutine[Any, Any, JSONResponse]]
_SIGNED = {
    "parameters": [
        {"name": name, "in": "query", "required": required, "schema": {"type": "string"}}
        for name, required in (
            ("auth_key", True),
            ("auth_timestamp", True),
            ("auth_version", True),
            ("auth_signature", True),
            ("body_md5", False),
        )
    ]
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": text}
    for status, text in (
        (400, "Invalid input or over a limit"),
        (401, "Not signed with the app's secret"),
        (403, "The app is disabled"),
        (404, "No such app"),
        (413, "Over the app's payload limit"),
        (429, "Over the deployment's request rate for the app"),
    )
}
_TRIGGER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "data"],
    "properties": {
        "name": {"type": "string"},
        "data": {"type": "string"},
        "channel": {"type": "string"},
        "channels": {"type": "array", "items": {"type": "string"}},
        "socket_id": {"type": "string"},
        "info": {"type": "string"},
    },
}
_TRIGGER_BODY = {"required": True, "content": {"application/json": {"schema": _TRIGGER_SCHEMA}}}
_BATCH_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["batch"],
                "properties": {"batch": {"type": "array", "items": _TRIGGER_SCHEMA}},
            }
        }
    },
}


# Store reads for apps not in memory at once, so a flood of unknown ids cannot take every
# worker thread.
_DIRECTORY_READS = 4


class HeldApps(AppDirectory, Protocol):
    def held(self, app_id: str | None = None, key: str | None = None) -> bool:
        """Whether the directory answers for this app id (or key) without the store."""
        ...


def pusher_router(
    bus: CommandBus,
    apps: HeldApps,
    channels: ChannelQueries,
    limiter: RateLimiter | None = None,
    path_prefix: str = "",
) -> APIRouter:
    """`limiter` counts each app's requests (None: no limit)."""
    router = APIRouter(tags=["Pusher HTTP API"])
    signed = SignedRequests(apps)
    reads = asyncio.Semaphore(_DIRECTORY_READS)

    def look_up(app_id: str | None, key: str | None) -> None:
        if app_id is not None:
            apps.by_id(app_id)
        elif key:
            apps.by_key(key)

    async def authorised(request: Request, app_id: str | None) -> tuple[AppConfig, str | None]:
        """The signed request's app, within its rate; the store is read off the loop."""
        key = request.query_params.get("auth_key")
        if not apps.held(app_id, key):
            async with reads:
                await asyncio.to_thread(look_up, app_id, key)
        app, body_md5 = signed.app_for(request, app_id)
        if limiter is not None:
            # Counted once the signature proved the app: nobody else spends its quota.
            now = datetime.now(UTC)
            decision = await limiter.hit(f"pusher-api:{app.app_id}", now)
            if not decision.allowed:
                raise PusherError(
                    429,
                    f"Too many requests: this app may make {decision.rule.limit}"
                    f" per {decision.rule.label}",
                    "rate_limited",
                    retry_after=decision.retry_after_seconds(now),
                )
        return app, body_md5

    def actor(request: Request, app: AppConfig) -> Any:
        # The app is the actor; the address says which of its backends it was.
        principal = Principal(app.app_id, "pusher_app", frozenset(), credential_id=app.key)
        return command_context(request, principal)

    async def trigger(request: Request, app_id: str) -> JSONResponse:
        app, body_md5 = await authorised(request, app_id)
        body = await signed.body(request, body_md5, body_bound(app.limits, 1))
        requested = parse_event(json_object(body), app.limits)
        await bus.execute(
            TriggerPusherEvents(
                app_id=app.app_id, triggers=(requested.trigger,), context=actor(request, app)
            )
        )
        if not requested.info:
            return JSONResponse({})
        attributes = {
            channel: _attributes(channels, app.app_id, channel, requested.info)
            for channel in requested.trigger.channels
        }
        return JSONResponse({"channels": attributes})

    async def batch(request: Request, app_id: str) -> JSONResponse:
        app, body_md5 = await authorised(request, app_id)
        limits = app.limits
        body = await signed.body(request, body_md5, body_bound(limits, limits.max_events_per_batch))
        items = json_object(body).get("batch")
        if not isinstance(items, list) or not items:
            raise PusherError(400, "batch must be a non-empty list of events")
        if len(items) > limits.max_events_per_batch:
            raise PusherError(
                400,
                f"a batch holds at most {limits.max_events_per_batch} events",
                "limit_exceeded",
            )
        requested: list[RequestedTrigger] = [
            parse_event(item, limits, f"batch[{i}]: ") for i, item in enumerate(items)
        ]
        await bus.execute(
            TriggerPusherEvents(
                app_id=app.app_id,
                triggers=tuple(r.trigger for r in requested),
                context=actor(request, app),
            )
        )
        if not any(r.info for r in requested):
            return JSONResponse({})
        answers = [
            _attributes(channels, app.app_id, r.trigger.channels[0], r.info) for r in requested
        ]
        return JSONResponse({"batch": answers})

    async def list_channels(request: Request, app_id: str) -> JSONResponse:
        app, body_md5 = await authorised(request, app_id)
        await signed.body(request, body_md5, 0)
        prefix = request.query_params.get("filter_by_prefix", "")
        info = parse_info(request.query_params.get("info"))
        if "user_count" in info and not is_presence(prefix):
            raise PusherError(
                400, "user_count is only for presence channels: filter_by_prefix=presence-"
            )
        occupied = channels.occupied_channels(app.app_id, prefix)
        answer: dict[str, dict[str, int]] = {}
        for name, counts in occupied.items():
            attributes: dict[str, int] = {}
            if "subscription_count" in info:
                attributes["subscription_count"] = counts.subscription_count
            if "user_count" in info:
                attributes["user_count"] = counts.user_count
            answer[name] = attributes
        return JSONResponse({"channels": answer})

    async def channel(request: Request, app_id: str, channel_name: str) -> JSONResponse:
        app, body_md5 = await authorised(request, app_id)
        await signed.body(request, body_md5, 0)
        _check_channel(app, channel_name)
        raw_info = (request.query_params.get("info") or "").split(",")
        wants_cache = any(a.strip() == "cache" for a in raw_info)
        info = parse_info(",".join(a for a in raw_info if a.strip() != "cache"))
        if "user_count" in info and not is_presence(channel_name):
            raise PusherError(400, "user_count is only for presence channels")
        if wants_cache and not is_cache_channel(channel_name):
            raise PusherError(400, "cache is only for cache channels (cache-, private-cache-, …)")
        subscriptions = channels.subscription_count(app.app_id, channel_name)
        answer: dict[str, Any] = {"occupied": subscriptions > 0}
        if "subscription_count" in info:
            answer["subscription_count"] = subscriptions
        if "user_count" in info:
            answer["user_count"] = len(channels.presence_user_ids(app.app_id, channel_name))
        if wants_cache:
            cached = await channels.cached_event(app.app_id, channel_name)
            # Pusher leaves `cache` out while the channel has no last event.
            if cached is not None:
                answer["cache"] = {"data": cached.data, "ttl": cached.ttl_seconds}
        return JSONResponse(answer)

    async def users(request: Request, app_id: str, channel_name: str) -> JSONResponse:
        app, body_md5 = await authorised(request, app_id)
        await signed.body(request, body_md5, 0)
        _check_channel(app, channel_name)
        if not is_presence(channel_name):
            raise PusherError(400, "Only presence channels have users")
        ids = channels.presence_user_ids(app.app_id, channel_name)
        return JSONResponse({"users": [{"id": user_id} for user_id in ids]})

    async def terminate(request: Request, user_id: str, app_id: str | None = None) -> JSONResponse:
        app, body_md5 = await authorised(request, app_id)
        body = await signed.body(request, body_md5, 1024)
        if body.strip() and json_object(body):
            raise PusherError(400, "terminate_connections takes an empty object")
        problem = user_id_problem(user_id)
        if problem is not None:
            raise PusherError(400, problem)
        await bus.execute(
            TerminatePusherUserConnections(
                app_id=app.app_id, user_id=user_id, context=actor(request, app)
            )
        )
        return JSONResponse({})

    async def terminate_by_key(request: Request, user_id: str) -> JSONResponse:
        return await terminate(request, user_id)

    routes: list[tuple[str, str, Route, str, dict[str, Any]]] = [
        ("POST", "/apps/{app_id}/events", trigger, "Trigger an event", _TRIGGER_BODY),
        ("POST", "/apps/{app_id}/batch_events", batch, "Trigger events", _BATCH_BODY),
        ("GET", "/apps/{app_id}/channels", list_channels, "Occupied channels", {}),
        ("GET", "/apps/{app_id}/channels/{channel_name}", channel, "One channel", {}),
        ("GET", "/apps/{app_id}/channels/{channel_name}/users", users, "Presence users", {}),
        (
            "POST",
            "/apps/{app_id}/users/{user_id}/terminate_connections",
            terminate,
            "Close a user's sockets",
            {},
        ),
        (
            "POST",
            "/users/{user_id}/terminate_connections",
            terminate_by_key,
            "Close a user's sockets (the app named by auth_key)",
            {},
        ),
    ]
    for prefix in dict.fromkeys(("", path_prefix)):
        for method, path, endpoint, summary, body in routes:
            extra: dict[str, Any] = dict(_SIGNED)
            if body:
                extra["requestBody"] = body
            router.add_api_route(
                prefix + path,
                endpoint,
                methods=[method],
                summary=summary,
                responses=_ERRORS,
                openapi_extra=extra,
                include_in_schema=not prefix,
                response_class=JSONResponse,
            )
    return router


def _check_channel(app: AppConfig, name: str) -> None:
    problem = channel_name_problem(name, app.limits.max_channel_name_length)
    if problem is not None:
        raise PusherError(400, problem)


def _attributes(
    channels: ChannelQueries, app_id: str, channel: str, info: frozenset[str]
) -> dict[str, int]:
    attributes: dict[str, int] = {}
    if "subscription_count" in info:
        attributes["subscription_count"] = channels.subscription_count(app_id, channel)
    if "user_count" in info and is_presence(channel):
        attributes["user_count"] = len(channels.presence_user_ids(app_id, channel))
    return attributes
