"""A Pusher app: its credentials, limits and webhooks; every change is an event."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.pusher.apps import AppConfig, AppLimits, Webhook

Metadata = dict[str, Any]


class PusherApp(Aggregate):
    """Keyed by the app id, so a node finds an app from its path without an index.

    `secret` holds the app secret sealed with the deployment's master key (the store and
    its readers never see it in clear); limits and webhooks are plain JSON-ready dicts, as
    `domain.pusher.apps` describes them, so events and snapshots stay readable.
    """

    Created: ClassVar[type[Aggregate.Created]]
    LimitsSet: ClassVar[type[Aggregate.Event]]
    Enabled: ClassVar[type[Aggregate.Event]]
    Disabled: ClassVar[type[Aggregate.Event]]
    Renamed: ClassVar[type[Aggregate.Event]]
    KeyChanged: ClassVar[type[Aggregate.Event]]
    SecretRotated: ClassVar[type[Aggregate.Event]]
    WebhooksSet: ClassVar[type[Aggregate.Event]]
    UserConnectionsTerminated: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(app_id: str, **_: Any) -> UUID:
        return pusher_app_id(app_id)

    @event("Created")
    def __init__(
        self,
        app_id: str,
        key: str,
        secret: str,
        name: str,
        enabled: bool,
        limits: dict[str, Any],
        webhooks: list[dict[str, Any]],
        meta: Metadata,
    ) -> None:
        self.app_id = app_id
        self.key = key
        self.secret = secret
        self.name = name
        self.enabled = enabled
        self.limits = dict(limits)
        self.webhooks = list(webhooks)

    def set_limits(self, limits: dict[str, Any], meta: Metadata) -> None:
        self._limits_set(self.app_id, limits, meta)

    @event("LimitsSet")
    def _limits_set(self, app_id: str, limits: dict[str, Any], meta: Metadata) -> None:
        self.limits = dict(limits)

    def enable(self, meta: Metadata) -> None:
        self._enabled(self.app_id, meta)

    @event("Enabled")
    def _enabled(self, app_id: str, meta: Metadata) -> None:
        self.enabled = True

    def disable(self, meta: Metadata) -> None:
        self._disabled(self.app_id, meta)

    @event("Disabled")
    def _disabled(self, app_id: str, meta: Metadata) -> None:
        self.enabled = False

    def rename(self, name: str, meta: Metadata) -> None:
        self._renamed(self.app_id, name, meta)

    @event("Renamed")
    def _renamed(self, app_id: str, name: str, meta: Metadata) -> None:
        self.name = name

    def change_key(self, key: str, meta: Metadata) -> None:
        self._key_changed(self.app_id, key, meta)

    @event("KeyChanged")
    def _key_changed(self, app_id: str, key: str, meta: Metadata) -> None:
        self.key = key

    def rotate_secret(self, secret: str, meta: Metadata) -> None:
        self._secret_rotated(self.app_id, secret, meta)

    @event("SecretRotated")
    def _secret_rotated(self, app_id: str, secret: str, meta: Metadata) -> None:
        self.secret = secret

    def set_webhooks(self, webhooks: list[dict[str, Any]], meta: Metadata) -> None:
        self._webhooks_set(self.app_id, webhooks, meta)

    @event("WebhooksSet")
    def _webhooks_set(self, app_id: str, webhooks: list[dict[str, Any]], meta: Metadata) -> None:
        self.webhooks = list(webhooks)

    def terminate_user_connections(self, user_id: str, meta: Metadata) -> None:
        self._user_connections_terminated(self.app_id, user_id, meta)

    @event("UserConnectionsTerminated")
    def _user_connections_terminated(self, app_id: str, user_id: str, meta: Metadata) -> None:
        # Nothing to keep: the gateways close the user's sockets when they see this event.
        pass


def pusher_app_id(app_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:pusher-app:{app_id}")


def limits_as_dict(limits: AppLimits) -> dict[str, Any]:
    return asdict(limits)


def limits_from_dict(stored: dict[str, Any]) -> AppLimits:
    # Limits added in a later release take their default for apps created before it.
    known = {f.name for f in fields(AppLimits)}
    return AppLimits(**{k: v for k, v in stored.items() if k in known})


def webhooks_as_dicts(webhooks: tuple[Webhook, ...]) -> list[dict[str, Any]]:
    return [
        {"url": w.url, "event_types": list(w.event_types), "channel_prefix": w.channel_prefix}
        for w in webhooks
    ]


def webhooks_from_dicts(stored: list[dict[str, Any]]) -> tuple[Webhook, ...]:
    return tuple(
        Webhook(str(w["url"]), tuple(w.get("event_types") or ()), w.get("channel_prefix"))
        for w in stored
    )


def app_config(app: PusherApp, secret: str) -> AppConfig:
    """The app as the surfaces read it, with its secret opened by the caller."""
    return AppConfig(
        app_id=app.app_id,
        key=app.key,
        secret=secret,
        name=app.name,
        enabled=app.enabled,
        limits=limits_from_dict(app.limits),
        webhooks=webhooks_from_dicts(app.webhooks),
    )
