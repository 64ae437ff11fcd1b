"""`hubline apps`: Pusher apps (create, list, set, disable, rotate-secret), with or without
the server running."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields, replace
from typing import Any

import orjson

from domain.commands import Command
from domain.errors import DomainError
from domain.pusher.apps import AppLimits, Webhook
from domain.pusher.commands import (
    CreatePusherApp,
    RenamePusherApp,
    RotatePusherAppSecret,
    SetPusherAppEnabled,
    SetPusherAppLimits,
    SetPusherAppWebhooks,
)
from domain.pusher.pusher_app import PusherApp, limits_from_dict, pusher_app_id
from infra.command_line import CLI_CONTEXT, Subcommand, add_command, add_command_group, fail
from infra.identity.secret_box import SecretBox, master_key
from infra.pusher.credentials import mint_app_id, mint_key, mint_secret, seal_secret
from infra.root import offline
from infra.settings import Settings
from infra.store.aggregates import AggregateLoader

_LIMITS = {f.name: f for f in fields(AppLimits)}


def add_parsers(
    commands: Any, common: argparse.ArgumentParser
) -> dict[tuple[str, str | None], Subcommand]:
    apps = add_command_group(
        commands, "apps", "Pusher apps: create, list, set, disable, rotate-secret"
    )
    create = add_command(
        apps, "create", "create an app; prints its app_id, key and secret", parents=[common]
    )
    create.add_argument("--name", required=True, help="what the app is, shown in lists")
    create.add_argument("--id", dest="app_id", help="its numeric app id (default: a random one)")
    add_command(apps, "list", "apps as JSON lines (never the secret)", parents=[common])
    change = add_command(apps, "set", "change an app's name, limits or webhooks", parents=[common])
    change.add_argument("app_id", help="which app")
    change.add_argument("--name", help="a new name (default: unchanged)")
    state = change.add_mutually_exclusive_group()
    state.add_argument("--enable", action="store_true", help="serve the app again")
    state.add_argument("--disable", action="store_true", help="refuse the app's requests")
    change.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"set one limit; repeat for more; one of: {', '.join(_LIMITS)}"
        " (max_connections=none lifts the quota; default: every limit unchanged)",
    )
    change.add_argument(
        "--webhooks",
        metavar="JSON",
        help='all of the app\'s webhooks: [{"url": …, "event_types": [...],'
        ' "channel_prefix": …}] ([] for none; default: unchanged)',
    )
    disable = add_command(apps, "disable", "refuse the app's requests", parents=[common])
    disable.add_argument("app_id", help="which app")
    rotate = add_command(
        apps, "rotate-secret", "a new secret; the old one stops working", parents=[common]
    )
    rotate.add_argument("app_id", help="which app")
    hooks = add_command(
        apps, "webhooks", "the app's latest webhook deliveries, newest first", parents=[common]
    )
    hooks.add_argument("app_id", help="which app")
    hooks.add_argument("--last", type=int, default=50, help="how many attempts (default 50)")
    return {
        ("apps", "create"): _create,
        ("apps", "list"): _list,
        ("apps", "set"): _set,
        ("apps", "disable"): _disable,
        ("apps", "rotate-secret"): _rotate_secret,
        ("apps", "webhooks"): _webhook_attempts,
    }


def _print(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value).decode() + "\n")


def _create(settings: Settings, args: argparse.Namespace) -> int:
    admin = offline.administration(settings)
    box = SecretBox(master_key(settings))
    key, secret = mint_key(), mint_secret()
    # A random id that is taken (one in millions) is tried again; a chosen one is refused.
    for _ in range(1 if args.app_id else 5):
        app_id = args.app_id or mint_app_id()
        try:
            admin.bus.execute_now(
                CreatePusherApp(
                    app_id=app_id,
                    key=key,
                    sealed_secret=seal_secret(box, secret),
                    name=args.name,
                    context=CLI_CONTEXT,
                )
            )
        except DomainError as exc:
            if args.app_id or "already exists" not in str(exc):
                return fail(str(exc))
            continue
        _print({"app_id": app_id, "key": key, "secret": secret})
        return 0
    return fail("no free app id found; pass --id")


def _webhook_attempts(settings: Settings, args: argparse.Namespace) -> int:
    """What an operator looks at for a failing endpoint: each attempt and its outcome."""
    from infra.pusher.webhooks import create_attempts_table, recent_attempts

    views = offline.projections(settings, applies=False).runner.views
    create_attempts_table(views)  # before any sender ran: no attempts, not an error
    for attempt in recent_attempts(views, args.app_id, max(1, min(args.last, 1000))):
        _print(vars(attempt))
    return 0


def _list(settings: Settings, args: argparse.Namespace) -> int:
    from projections.pusher_app_view import list_apps

    views = offline.projections(settings, applies=True)  # it brings the view up to date
    views.runner.catch_up(views.store)
    with views.runner.views.transaction(write=False) as tx:
        rows = list_apps(tx)
    for row in rows:
        _print(
            {
                "app_id": row.app_id,
                "key": row.key,
                "name": row.name,
                "enabled": row.enabled,
                "limits": row.limits,
                "webhooks": row.webhooks,
            }
        )
    return 0


def _set(settings: Settings, args: argparse.Namespace) -> int:
    admin = offline.administration(settings)
    app = AggregateLoader(admin.store).get(PusherApp, pusher_app_id(args.app_id))
    if app is None:
        return fail(f"no app {args.app_id}")
    commands: list[Command] = []
    try:
        if args.name is not None:
            commands.append(RenamePusherApp(app_id=app.app_id, name=args.name, context=CLI_CONTEXT))
        if args.enable or args.disable:
            commands.append(
                SetPusherAppEnabled(app_id=app.app_id, enabled=args.enable, context=CLI_CONTEXT)
            )
        if args.limit:
            limits = _with_limits(limits_from_dict(app.limits), args.limit)
            commands.append(
                SetPusherAppLimits(app_id=app.app_id, limits=limits, context=CLI_CONTEXT)
            )
        if args.webhooks is not None:
            commands.append(
                SetPusherAppWebhooks(
                    app_id=app.app_id, webhooks=_webhooks(args.webhooks), context=CLI_CONTEXT
                )
            )
        for command in commands:
            admin.bus.execute_now(command)
    except (ValueError, DomainError) as exc:
        return fail(str(exc))
    return 0


def _with_limits(limits: AppLimits, assignments: list[str]) -> AppLimits:
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, raw = assignment.partition("=")
        if not sep or name not in _LIMITS:
            raise ValueError(f"--limit takes NAME=VALUE, NAME one of: {', '.join(_LIMITS)}")
        value = raw.strip().lower()
        if name in ("client_events", "subscription_count_events"):
            if value not in ("true", "false", "on", "off", "1", "0"):
                raise ValueError(f"{name} is true or false")
            changes[name] = value in ("true", "on", "1")
        elif name == "max_connections" and value in ("none", ""):
            changes[name] = None
        elif value.isdigit():
            changes[name] = int(value)
        else:
            raise ValueError(f"{name} takes a whole number")
    return replace(limits, **changes)


def _webhooks(raw: str) -> tuple[Webhook, ...]:
    try:
        items = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("--webhooks takes a JSON list") from None
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("url"), str) for i in items
    ):
        raise ValueError('--webhooks takes a JSON list of {"url", "event_types", "channel_prefix"}')
    return tuple(
        Webhook(
            i["url"], tuple(str(t) for t in i.get("event_types") or ()), i.get("channel_prefix")
        )
        for i in items
    )


def _disable(settings: Settings, args: argparse.Namespace) -> int:
    try:
        offline.administration(settings).bus.execute_now(
            SetPusherAppEnabled(app_id=args.app_id, enabled=False, context=CLI_CONTEXT)
        )
    except DomainError as exc:
        return fail(str(exc))
    return 0


def _rotate_secret(settings: Settings, args: argparse.Namespace) -> int:
    admin = offline.administration(settings)
    app = AggregateLoader(admin.store).get(PusherApp, pusher_app_id(args.app_id))
    if app is None:
        return fail(f"no app {args.app_id}")
    secret = mint_secret()
    box = SecretBox(master_key(settings))
    try:
        admin.bus.execute_now(
            RotatePusherAppSecret(
                app_id=app.app_id, sealed_secret=seal_secret(box, secret), context=CLI_CONTEXT
            )
        )
    except DomainError as exc:
        return fail(str(exc))
    _print({"app_id": app.app_id, "key": app.key, "secret": secret})
    return 0
