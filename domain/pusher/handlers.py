"""Decisions about Pusher apps and the events their backends trigger."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any
from uuid import UUID

from domain.commands import UnitOfWork
from domain.errors import DomainError, NotFound
from domain.pusher.apps import AppLimits, Webhook
from domain.pusher.channel_names import user_id_problem
from domain.pusher.client_events import SendPusherClientEvent, send_pusher_client_event
from domain.pusher.commands import (
    ChangePusherAppKey,
    CreatePusherApp,
    RenamePusherApp,
    RotatePusherAppSecret,
    SetPusherAppEnabled,
    SetPusherAppLimits,
    SetPusherAppWebhooks,
    TerminatePusherUserConnections,
    TriggerPusherEvents,
)
from domain.pusher.presence import HANDLERS as PRESENCE_HANDLERS
from domain.pusher.pusher_app import (
    PusherApp,
    limits_as_dict,
    pusher_app_id,
    webhooks_as_dicts,
)
from domain.pusher.trigger import PusherTrigger

# Pusher's server libraries refuse app ids that are not digits.
_APP_ID = re.compile(r"[0-9]{1,20}")
# A key travels in websocket URLs (/app/{key}) and query strings: nothing that needs escaping.
_KEY = re.compile(r"[-A-Za-z0-9_.]{1,100}")
WEBHOOK_EVENT_TYPES = frozenset(
    {
        "channel_occupied",
        "channel_vacated",
        "member_added",
        "member_removed",
        "client_event",
        "cache_miss",
        "subscription_count",
    }
)
MAX_WEBHOOKS = 10


def create_pusher_app(command: CreatePusherApp, uow: UnitOfWork) -> UUID:
    if not _APP_ID.fullmatch(command.app_id):
        raise DomainError("an app id is 1 to 20 digits (Pusher's libraries accept no other)")
    if not _KEY.fullmatch(command.key):
        raise DomainError("an app key is 1 to 100 characters of A-Z a-z 0-9 - _ .")
    if uow.get(PusherApp, pusher_app_id(command.app_id)) is not None:
        raise DomainError(f"an app with id {command.app_id} already exists")
    app = PusherApp(
        app_id=command.app_id,
        key=command.key,
        secret=command.sealed_secret,
        name=_checked_name(command.name),
        enabled=command.enabled,
        limits=limits_as_dict(_checked_limits(command.limits)),
        webhooks=webhooks_as_dicts(_checked_webhooks(command.webhooks)),
        meta=command.context.as_metadata(),
    )
    uow.add(app)
    return app.id


def set_pusher_app_limits(command: SetPusherAppLimits, uow: UnitOfWork) -> None:
    app = _app(uow, command.app_id)
    limits = limits_as_dict(_checked_limits(command.limits))
    if limits != app.limits:
        app.set_limits(limits, meta=command.context.as_metadata())


def set_pusher_app_enabled(command: SetPusherAppEnabled, uow: UnitOfWork) -> None:
    app = _app(uow, command.app_id)
    if command.enabled and not app.enabled:
        app.enable(meta=command.context.as_metadata())
    elif not command.enabled and app.enabled:
        app.disable(meta=command.context.as_metadata())


def rename_pusher_app(command: RenamePusherApp, uow: UnitOfWork) -> None:
    app = _app(uow, command.app_id)
    name = _checked_name(command.name)
    if name != app.name:
        app.rename(name, meta=command.context.as_metadata())


def change_pusher_app_key(command: ChangePusherAppKey, uow: UnitOfWork) -> None:
    app = _app(uow, command.app_id)
    if not _KEY.fullmatch(command.key):
        raise DomainError("an app key is 1 to 100 characters of A-Z a-z 0-9 - _ .")
    if command.key != app.key:
        app.change_key(command.key, meta=command.context.as_metadata())


def rotate_pusher_app_secret(command: RotatePusherAppSecret, uow: UnitOfWork) -> None:
    _app(uow, command.app_id).rotate_secret(
        command.sealed_secret, meta=command.context.as_metadata()
    )


def set_pusher_app_webhooks(command: SetPusherAppWebhooks, uow: UnitOfWork) -> None:
    app = _app(uow, command.app_id)
    webhooks = webhooks_as_dicts(_checked_webhooks(command.webhooks))
    if webhooks != app.webhooks:
        app.set_webhooks(webhooks, meta=command.context.as_metadata())


def trigger_pusher_events(command: TriggerPusherEvents, uow: UnitOfWork) -> list[UUID]:
    if not command.triggers:
        raise DomainError("nothing to trigger")
    meta = command.context.as_metadata()
    ids = []
    for trigger in command.triggers:
        if not trigger.channels or not trigger.name:
            raise DomainError("a trigger needs a channel and an event name")
        event = PusherTrigger(
            app_id=command.app_id,
            channels=list(trigger.channels),
            name=trigger.name,
            data=trigger.data,
            socket_id=trigger.socket_id,
            meta=meta,
        )
        uow.add(event)
        ids.append(event.id)
    return ids


def terminate_pusher_user_connections(
    command: TerminatePusherUserConnections, uow: UnitOfWork
) -> None:
    problem = user_id_problem(command.user_id)
    if problem is not None:
        raise DomainError(problem)
    _app(uow, command.app_id).terminate_user_connections(
        command.user_id, meta=command.context.as_metadata()
    )


def _app(uow: UnitOfWork, app_id: str) -> PusherApp:
    app = uow.get(PusherApp, pusher_app_id(app_id))
    if app is None:
        raise NotFound(f"no app {app_id}")
    return app


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise DomainError("an app needs a name of 1 to 200 characters")
    return name


def _checked_limits(limits: AppLimits) -> AppLimits:
    for f in fields(AppLimits):
        value: Any = getattr(limits, f.name)
        if f.name in ("client_events", "subscription_count_events"):
            if not isinstance(value, bool):
                raise DomainError(f"{f.name} is true or false")
            continue
        if value is None and f.name == "max_connections":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise DomainError(f"{f.name} must be a whole number of at least 1")
    return limits


def _checked_webhooks(webhooks: tuple[Webhook, ...]) -> tuple[Webhook, ...]:
    if len(webhooks) > MAX_WEBHOOKS:
        raise DomainError(f"an app has at most {MAX_WEBHOOKS} webhooks")
    for hook in webhooks:
        if not hook.url.startswith(("http://", "https://")) or len(hook.url) > 2000:
            raise DomainError("a webhook URL is an http:// or https:// URL of 2000 characters")
        unknown = sorted(set(hook.event_types) - WEBHOOK_EVENT_TYPES)
        if unknown or not hook.event_types:
            raise DomainError(
                "a webhook names one or more of: " + ", ".join(sorted(WEBHOOK_EVENT_TYPES))
            )
        if hook.channel_prefix is not None and len(hook.channel_prefix) > 200:
            raise DomainError("a webhook's channel prefix is at most 200 characters")
    return webhooks


HANDLERS = {
    CreatePusherApp: create_pusher_app,
    SetPusherAppLimits: set_pusher_app_limits,
    SetPusherAppEnabled: set_pusher_app_enabled,
    RenamePusherApp: rename_pusher_app,
    ChangePusherAppKey: change_pusher_app_key,
    RotatePusherAppSecret: rotate_pusher_app_secret,
    SetPusherAppWebhooks: set_pusher_app_webhooks,
    TriggerPusherEvents: trigger_pusher_events,
    TerminatePusherUserConnections: terminate_pusher_user_connections,
    SendPusherClientEvent: send_pusher_client_event,
    **PRESENCE_HANDLERS,
}
