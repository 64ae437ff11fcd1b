"""Commands about Pusher apps and the events their backends trigger."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.commands import Command
from domain.pusher.apps import AppLimits, Webhook


@dataclass(frozen=True, kw_only=True)
class CreatePusherApp(Command):
    app_id: str
    key: str
    # The app secret sealed with the deployment's master key; the domain never opens it.
    sealed_secret: str
    name: str
    enabled: bool = True
    limits: AppLimits = field(default_factory=AppLimits)
    webhooks: tuple[Webhook, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SetPusherAppLimits(Command):
    app_id: str
    limits: AppLimits


@dataclass(frozen=True, kw_only=True)
class SetPusherAppEnabled(Command):
    app_id: str
    enabled: bool


@dataclass(frozen=True, kw_only=True)
class RenamePusherApp(Command):
    app_id: str
    name: str


@dataclass(frozen=True, kw_only=True)
class ChangePusherAppKey(Command):
    """Only for apps declared in the settings file, whose key is the operator's to choose."""

    app_id: str
    key: str


@dataclass(frozen=True, kw_only=True)
class RotatePusherAppSecret(Command):
    app_id: str
    sealed_secret: str


@dataclass(frozen=True, kw_only=True)
class SetPusherAppWebhooks(Command):
    app_id: str
    webhooks: tuple[Webhook, ...]


@dataclass(frozen=True)
class Trigger:
    """One event for one or more channels of an app (one POST events, or a batch item)."""

    channels: tuple[str, ...]
    name: str
    data: str
    socket_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class TriggerPusherEvents(Command):
    """A request's triggers, saved together: a batch is durable whole or not at all.

    The surface checked them against the app's limits before sending them; the handler
    checks only what no trigger may ever break.
    """

    app_id: str
    triggers: tuple[Trigger, ...]


@dataclass(frozen=True, kw_only=True)
class TerminatePusherUserConnections(Command):
    app_id: str
    user_id: str
