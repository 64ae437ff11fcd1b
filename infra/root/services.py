"""The services one Hubline process runs on, built from settings; nothing else constructs them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from domain.commands import Command
from domain.deviceauth.handlers import HANDLERS as DEVICEAUTH_HANDLERS
from domain.identity.handlers import HANDLERS as IDENTITY_HANDLERS
from domain.openshock.handlers import HANDLERS as OPENSHOCK_HANDLERS
from domain.principals.handlers import HANDLERS as PRINCIPAL_HANDLERS
from domain.pusher.handlers import HANDLERS as PUSHER_HANDLERS
from domain.thermostats.handlers import HANDLERS as THERMOSTAT_HANDLERS
from infra.command_bus import CommandBus
from infra.health import Health
from infra.identity.access_token_validator import AccessTokenValidator
from infra.identity.access_tokens import AccessTokens
from infra.identity.login_sessions import LoginSessionVerifier
from infra.identity.secret_box import SecretBox, master_key
from infra.identity.signing_keys import SigningKeys
from infra.identity.token_authenticator import TokenAuthenticator
from infra.limits.failure_limiter import FailureLimiter, MemoryFailureLimiter, RedisFailureLimiter
from infra.limits.rate_limits import MemoryRateLimiter, RateLimiter, RedisRateLimiter, parse_rules
from infra.limits.sliding_window import (
    MemorySlidingWindow,
    RedisSlidingWindow,
    SlidingWindowLimiter,
)
from infra.log.feed import EmbeddedLogFeed, LogFeed
from infra.openshock.hub_tokens import HubTokens, SealedHubTokens
from infra.pusher.app_directory import PusherAppDirectory
from infra.pusher.declared_apps import ensure_declared_apps, read_declared_apps
from infra.pusher.node_leases import NodeLeases
from infra.pusher.webhooks import WebhookSender, create_attempts_table, read_app
from infra.settings import Settings
from infra.store.aggregates import AggregateLoader
from infra.store.event_store import EventStore
from infra.store.natural_keys import NaturalKeys
from infra.store.projection_runner import EmbeddedProjectionThread, ProjectionRunner
from infra.store.view_database import ViewDatabase
from infra.store.view_reader import ViewReader
from infra.thermostats.hold_expiry import HoldExpiry
from projections.api_token_view import ApiTokenView
from projections.audit_view import AuditView
from projections.device_access_view import DeviceAccessView
from projections.login_session_view import LoginSessionView
from projections.openshock_views import openshock_views
from projections.pusher_app_view import PusherAppView
from projections.pusher_cache_view import PusherCacheView
from projections.pusher_webhooks import PusherWebhooks
from projections.records import LogRecord
from projections.thermostat_view import ThermostatView
from projections.user_view import UserView
from projections.view_store import Projection

log = logging.getLogger(__name__)

HANDLERS: dict[type[Command], Any] = {
    **DEVICEAUTH_HANDLERS,
    **PRINCIPAL_HANDLERS,
    **IDENTITY_HANDLERS,
    **THERMOSTAT_HANDLERS,
    **PUSHER_HANDLERS,
    **OPENSHOCK_HANDLERS,
}


def all_projections() -> list[Projection]:
    return [
        DeviceAccessView(),
        ApiTokenView(),
        AuditView(),
        UserView(),
        ThermostatView(),
        PusherAppView(),
        PusherWebhooks(),
        PusherCacheView(),
        LoginSessionView(),
        *openshock_views(),
    ]


class Services:
    """The store, the bus, the views, the log feed and what checks credentials, wired once.

    A router or gateway is handed the few of these it uses (infra/root/app.py), never this.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = EventStore(settings)
        self.views = ViewDatabase(settings)
        # Distributed, the projection workers keep the views; this node only reads them.
        self.runner = ProjectionRunner(
            self.views, all_projections(), applies=settings.log == "embedded"
        )
        self.projection_thread: EmbeddedProjectionThread | None = None
        self.feed: LogFeed
        log_reachable: Callable[[], bool] | None = None
        if settings.log == "embedded":
            self.projection_thread = EmbeddedProjectionThread(self.runner, self.store)
            self.feed = EmbeddedLogFeed(self.store)
        else:
            from infra.log.kafka_feed import KafkaLogFeed
            from infra.log.kafka_topic import kafka_reachable

            self.feed = KafkaLogFeed(settings, self.store)

            def log_reachable() -> bool:
                return kafka_reachable(settings)

        self.bus = CommandBus(
            self.store.app, HANDLERS, settings.max_batch_size, on_commit=self._committed
        )
        self.aggregates = AggregateLoader(self.store)
        self.natural_keys = NaturalKeys(self.aggregates)
        self.view_reader = ViewReader(
            self.views, self.runner, self.store, settings.read_your_writes_timeout_seconds
        )
        self.secret_box = SecretBox(master_key(settings))
        self.signing_keys = signing_keys(settings, self.aggregates, self.bus, self.secret_box)
        if settings.log == "kafka" and settings.issuer is None:
            log.warning(
                "no HUBLINE_ISSUER: this node issues and accepts tokens as %s only; set the"
                " public URL so that every node accepts every node's tokens",
                settings.issuer_url,
            )
        self.access_tokens = AccessTokens(
            self.signing_keys,
            settings.issuer_url,
            settings.access_token_lifetime_seconds,
            settings.access_token_clock_skew_seconds,
        )
        self.token_validator = AccessTokenValidator(self.access_tokens, self.natural_keys)
        self.authenticator = TokenAuthenticator(
            self.aggregates, self.natural_keys, self.token_validator, self.bus
        )
        # OpenShock's login sessions (cookie openShockSession): revoked through the grants.
        self.login_sessions = LoginSessionVerifier(
            self.natural_keys, self.token_validator.grants, self.bus
        )
        self.rate_limiter = _rate_limiter(settings, settings.rate_limit_rules)
        # OpenShock's REST limits (None: off) and its hubs' tokens.
        self.openshock_user_limiter = _sliding_window(
            settings, "user", settings.openshock_user_requests_per_minute
        )
        self.openshock_anonymous_limiter = _sliding_window(
            settings, "address", settings.openshock_anonymous_requests_per_minute
        )
        self.openshock_auth_limiter = (
            _rate_limiter(settings, f"{settings.openshock_auth_requests_per_minute}/1m")
            if settings.openshock_auth_requests_per_minute > 0
            else None
        )
        self.hub_tokens = HubTokens(self.aggregates)
        self.sealed_hub_tokens = SealedHubTokens(self.secret_box, self.aggregates)
        # Requests per app on Pusher's HTTP API (None: not limited).
        self.pusher_api_limiter = (
            _rate_limiter(settings, settings.pusher_api_rate_limit_rules)
            if settings.pusher_api_rate_limit_rules
            else None
        )
        self.device_failures = _failure_limiter(
            settings,
            "device",
            settings.device_auth_failures_per_window,
            settings.device_auth_failure_window_seconds,
        )
        self.login_failures = _failure_limiter(
            settings,
            "login",
            settings.login_failures_per_address,
            settings.login_failure_window_seconds,
        )
        self.hold_expiry = HoldExpiry(self.view_reader, self.bus)
        self.health = Health(self.store, self.runner, log_reachable, self.rate_limiter)
        self.feed.add_listener(self.token_validator.grants.forget_changed)
        self.feed.add_listener(self.authenticator.api_tokens.forget_changed)
        # Pusher apps, as the HTTP API and the websocket gateway find them.
        self.pusher_apps = PusherAppDirectory(self.aggregates, self.views, self.secret_box)
        self.feed.add_listener(self.pusher_apps.forget_changed)
        # Which serve nodes' Pusher gateways are alive (presence across nodes).
        self.pusher_leases = NodeLeases(self.views)
        # Webhooks leave from whoever keeps the views: here embedded, the projection
        # workers distributed.
        self.webhooks: WebhookSender | None = None
        # The admin API reads the attempts before any sender may have run.
        create_attempts_table(self.views)
        if settings.log == "embedded":
            self.webhooks = WebhookSender(
                self.views, lambda app_id: read_app(self.aggregates, self.secret_box, app_id)
            )

    def _committed(
        self, position: int, saved: list[str], records: Sequence[LogRecord] = ()
    ) -> None:
        """Runs on the bus thread after each commit, before any of its commands is answered;
        `records`: what the commit stored, in log order (with their domain events)."""
        self.token_validator.grants.forget(saved)
        self.authenticator.api_tokens.forget(saved)
        self.pusher_apps.forget(saved)
        # The feed first: pushes wait on it, while the views catch up in their own thread.
        if isinstance(self.feed, EmbeddedLogFeed) and records:
            # Published as they are: the feed reads the store only for what it cannot place.
            self.feed.committed(records)
        else:
            self.feed.wake(position)
        if self.projection_thread is not None:
            self.projection_thread.wake(position)

    async def start(self) -> None:
        await asyncio.to_thread(self.signing_keys.ensure)
        if self.settings.pusher_apps_file:
            declared = read_declared_apps(self.settings.pusher_apps_file)
            await asyncio.to_thread(
                ensure_declared_apps, declared, self.bus, self.pusher_apps, self.secret_box
            )
        self.bus.start()
        if self.projection_thread is not None:
            self.projection_thread.start()
        await self.feed.start()
        await self.hold_expiry.start()
        if self.webhooks is not None:
            self.webhooks.start()

    async def stop(self) -> None:
        if self.webhooks is not None:
            await asyncio.to_thread(self.webhooks.stop)
        await self.hold_expiry.stop()
        await self.feed.stop()
        for limiter in (self.rate_limiter, self.pusher_api_limiter, self.openshock_auth_limiter):
            if isinstance(limiter, RedisRateLimiter):
                await limiter.close()
        for window in (self.openshock_user_limiter, self.openshock_anonymous_limiter):
            if isinstance(window, RedisSlidingWindow):
                await window.close()
        for failures in (self.device_failures, self.login_failures):
            if isinstance(failures, RedisFailureLimiter):
                failures.close()
        self.bus.stop()
        if self.projection_thread is not None:
            self.projection_thread.stop()
        self.views.close()
        self.store.close()


def signing_keys(
    settings: Settings, aggregates: AggregateLoader, bus: CommandBus, box: SecretBox
) -> SigningKeys:
    return SigningKeys(aggregates, bus, box, settings.access_token_lifetime_seconds)


def _failure_limiter(
    settings: Settings, name: str, limit: int, window_seconds: float
) -> FailureLimiter:
    if settings.redis_url:
        return RedisFailureLimiter(
            settings.redis_url, name, limit, window_seconds, prefix=settings.redis_namespace
        )
    if settings.log == "kafka":
        log.warning("no HUBLINE_REDIS_URL: each node counts failed %s attempts on its own", name)
    return MemoryFailureLimiter(limit, window_seconds)


def _sliding_window(settings: Settings, name: str, per_minute: int) -> SlidingWindowLimiter | None:
    """OpenShock's sliding minute in six segments, for the deployment when there is Redis."""
    if per_minute <= 0:
        return None
    if settings.redis_url:
        return RedisSlidingWindow(
            settings.redis_url, per_minute, 60.0, 6, prefix=f"{settings.redis_namespace}:{name}"
        )
    return MemorySlidingWindow(per_minute, 60.0, 6)


def _rate_limiter(settings: Settings, rules_text: str) -> RateLimiter:
    """Counted in Redis for the whole deployment when there is one, else per node."""
    rules = parse_rules(rules_text)
    if settings.redis_url:
        return RedisRateLimiter(
            settings.redis_url, rules, prefix=f"{settings.redis_namespace}:rate"
        )
    if settings.log == "kafka":
        log.warning("no HUBLINE_REDIS_URL: each node counts rate limits on its own")
    return MemoryRateLimiter(rules)
