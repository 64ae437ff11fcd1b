"""Apps declared in the settings file: created, or brought in line with it, at start.

The file is the operator's: what it says wins over changes made since through the CLI or
REST (each difference is recorded as the usual event, with the system as the actor).
"""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path
from typing import Any

import orjson

from domain.commands import Command
from domain.context import CommandContext
from domain.errors import DomainError
from domain.pusher.apps import AppConfig, AppLimits, Webhook
from domain.pusher.commands import (
    ChangePusherAppKey,
    CreatePusherApp,
    RenamePusherApp,
    RotatePusherAppSecret,
    SetPusherAppEnabled,
    SetPusherAppLimits,
    SetPusherAppWebhooks,
)
from infra.command_bus import CommandBus
from infra.identity.secret_box import SecretBox
from infra.pusher.app_directory import PusherAppDirectory
from infra.pusher.credentials import seal_secret

log = logging.getLogger(__name__)

SETTINGS_FILE = CommandContext(actor_id="settings-file", actor_kind="system")
_APP_FIELDS = frozenset({"app_id", "key", "secret", "name", "enabled", "limits", "webhooks"})
_LIMIT_FIELDS = frozenset(f.name for f in fields(AppLimits))
_WEBHOOK_FIELDS = frozenset({"url", "event_types", "channel_prefix"})


def read_declared_apps(path: str) -> list[AppConfig]:
    """The apps of the file; a ValueError names what is wrong with it."""
    try:
        raw: Any = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ValueError(f"pusher_apps_file {path}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"pusher_apps_file {path} is not JSON: {exc}") from None
    items = raw.get("apps") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise ValueError(f'pusher_apps_file {path}: expected {{"apps": [...]}}')
    return [_app(item, f"{path}: apps[{i}]") for i, item in enumerate(items)]


def _app(item: Any, where: str) -> AppConfig:
    if not isinstance(item, dict):
        raise ValueError(f"{where} is not an object")
    unknown = sorted(set(item) - _APP_FIELDS)
    missing = sorted({"app_id", "key", "secret"} - set(item))
    if unknown or missing:
        raise ValueError(f"{where}: unknown fields {unknown}, missing fields {missing}")
    limits = item.get("limits") or {}
    if not isinstance(limits, dict) or set(limits) - _LIMIT_FIELDS:
        raise ValueError(f"{where}: limits may hold only {', '.join(sorted(_LIMIT_FIELDS))}")
    hooks = item.get("webhooks") or []
    if not isinstance(hooks, list) or any(
        not isinstance(h, dict) or set(h) - _WEBHOOK_FIELDS or "url" not in h for h in hooks
    ):
        raise ValueError(f"{where}: webhooks are objects of url, event_types, channel_prefix")
    try:
        return AppConfig(
            app_id=str(item["app_id"]),
            key=str(item["key"]),
            secret=str(item["secret"]),
            name=str(item.get("name") or item["app_id"]),
            enabled=bool(item.get("enabled", True)),
            limits=AppLimits(**limits),
            webhooks=tuple(
                Webhook(str(h["url"]), tuple(h.get("event_types") or ()), h.get("channel_prefix"))
                for h in hooks
            ),
        )
    except TypeError as exc:
        raise ValueError(f"{where}: {exc}") from None


def ensure_declared_apps(
    apps: list[AppConfig], bus: CommandBus, directory: PusherAppDirectory, box: SecretBox
) -> None:
    """Create each app, or record what differs from the file; raises ValueError if refused."""
    for declared in apps:
        try:
            for command in _changes(declared, directory.by_id(declared.app_id), box):
                bus.execute_now(command)
        except DomainError as exc:
            raise ValueError(f"pusher app {declared.app_id} of the settings file: {exc}") from exc
        log.info(
            "pusher app %s (%s) as the settings file declares it", declared.app_id, declared.name
        )


def _changes(declared: AppConfig, current: AppConfig | None, box: SecretBox) -> list[Command]:
    app_id, context = declared.app_id, SETTINGS_FILE
    if current is None:
        return [
            CreatePusherApp(
                app_id=app_id,
                key=declared.key,
                sealed_secret=seal_secret(box, declared.secret),
                name=declared.name,
                enabled=declared.enabled,
                limits=declared.limits,
                webhooks=declared.webhooks,
                context=context,
            )
        ]
    commands: list[Command] = []
    if current.key != declared.key:
        commands.append(ChangePusherAppKey(app_id=app_id, key=declared.key, context=context))
    if current.secret != declared.secret:
        sealed = seal_secret(box, declared.secret)
        commands.append(RotatePusherAppSecret(app_id=app_id, sealed_secret=sealed, context=context))
    if current.name != declared.name:
        commands.append(RenamePusherApp(app_id=app_id, name=declared.name, context=context))
    if current.enabled != declared.enabled:
        commands.append(
            SetPusherAppEnabled(app_id=app_id, enabled=declared.enabled, context=context)
        )
    if current.limits != declared.limits:
        commands.append(SetPusherAppLimits(app_id=app_id, limits=declared.limits, context=context))
    if current.webhooks != declared.webhooks:
        commands.append(
            SetPusherAppWebhooks(app_id=app_id, webhooks=declared.webhooks, context=context)
        )
    return commands
