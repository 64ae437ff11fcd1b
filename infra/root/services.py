"""The composition root: builds the store, bus, views, log feed and authenticator from settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from domain.commands import Command
from domain.context import CommandContext
from domain.deviceauth.handlers import HANDLERS as DEVICEAUTH_HANDLERS
from domain.errors import ViewsBehind
from domain.identity.handlers import HANDLERS as IDENTITY_HANDLERS
from domain.principals.commands import RecordApiTokenUse
from domain.principals.handlers import HANDLERS as PRINCIPAL_HANDLERS
from domain.thermostats.handlers import HANDLERS as THERMOSTAT_HANDLERS
from infra.command_bus import CommandBus
from infra.identity.access_tokens import AccessTokens
from infra.identity.credentials import TokenAuthenticator
from infra.identity.directory import Directory
from infra.identity.secret_box import SecretBox, master_key
from infra.identity.signing_keys import SigningKeys
from infra.limits.failure_limiter import FailureLimiter, MemoryFailureLimiter, RedisFailureLimiter
from infra.limits.rate_limits import MemoryRateLimiter, RateLimiter, RedisRateLimiter, parse_rules
from infra.log.commit_signal import CommitAnnouncer
from infra.log.feed import EmbeddedLogFeed, LogFeed
from infra.metrics import LOG_HEAD, PROJECTION_LAG, PROJECTION_POSITION
from infra.settings import Settings
from infra.store.event_store import EventStore
from infra.store.projection_runner import EmbeddedProjectionThread, ProjectionRunner
from infra.store.view_database import ViewDatabase
from infra.thermostats.hold_expiry import HoldExpiry
from projections.api_token_view import ApiTokenView
from projections.audit_view import AuditView
from projections.device_access_view import DeviceAccessView
from projections.thermostat_view import ThermostatView
from projections.user_view import UserView
from projections.view_store import Projection

if TYPE_CHECKING:
    from api.identity.provider import IdentityProvider

log = logging.getLogger(__name__)
T = TypeVar("T")

_SYSTEM_CONTEXT = CommandContext(actor_id="hubline", actor_kind="system")

HANDLERS: dict[type[Command], Any] = {
    **DEVICEAUTH_HANDLERS,
    **PRINCIPAL_HANDLERS,
    **IDENTITY_HANDLERS,
    **THERMOSTAT_HANDLERS,
}


def all_projections() -> list[Projection]:
    return [DeviceAccessView(), ApiTokenView(), AuditView(), UserView(), ThermostatView()]


class Hub:
    """Everything a process of Hubline runs on, wired once."""

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
        self.commit_announcer: CommitAnnouncer | None = None
        if settings.log == "embedded":
            self.projection_thread = EmbeddedProjectionThread(self.runner, self.store)
            self.feed = EmbeddedLogFeed(self.store)
        else:
            from infra.log.kafka_feed import KafkaLogFeed

            self.feed = KafkaLogFeed(settings, self.store)
            if settings.database is not None:
                self.commit_announcer = CommitAnnouncer(settings.database, settings.kafka_topic)
        self.bus = CommandBus(
            self.store.app, HANDLERS, settings.max_batch_size, on_commit=self._committed
        )
        self.identity = _identity_provider(settings, self.store, self.bus)
        self.authenticator = TokenAuthenticator(
            self.store,
            validate_access_token=self.identity.validate_access_token,
            user_roles=self._user_roles,
            record_use=self._record_token_use,
        )
        self.rate_limiter = _rate_limiter(settings)
        self.device_failures = failure_limiter(
            settings,
            "device",
            settings.device_auth_failures_per_window,
            settings.device_auth_failure_window_seconds,
        )
        self.hold_expiry = HoldExpiry(self)
        self.feed.add_listener(self.identity.grants.forget_changed)

    def _user_roles(self, subject: str) -> list[str] | None:
        user = self.identity.directory.user_by_subject(subject)
        return list(user.roles) if user is not None else None

    def _record_token_use(self, token_id: UUID) -> None:
        self.bus.execute_now(
            RecordApiTokenUse(token_id=token_id, at=datetime.now(UTC), context=_SYSTEM_CONTEXT)
        )

    def _committed(self, position: int, saved: list[str]) -> None:
        self.identity.grants.forget(saved)
        if self.commit_announcer is not None:
            self.commit_announcer.announce(position)
        if self.projection_thread is not None:
            self.projection_thread.wake(position)
        self.feed.wake(position)

    async def start(self) -> None:
        await asyncio.to_thread(self.identity.keys.ensure)
        self.bus.start()
        if self.projection_thread is not None:
            self.projection_thread.start()
        await self.feed.start()
        await self.hold_expiry.start()

    async def stop(self) -> None:
        await self.hold_expiry.stop()
        await self.feed.stop()
        if isinstance(self.rate_limiter, RedisRateLimiter):
            await self.rate_limiter.close()
        if isinstance(self.device_failures, RedisFailureLimiter):
            self.device_failures.close()
        self.bus.stop()
        if self.projection_thread is not None:
            self.projection_thread.stop()
        if self.commit_announcer is not None:
            self.commit_announcer.close()
        self.views.close()
        self.store.close()

    async def execute(self, command: Command) -> Any:
        return await self.bus.execute(command)

    async def query(self, query: Callable[..., T], *args: Any) -> T:
        """Run a view query in a worker thread, in one read transaction."""

        def run() -> T:
            with self.views.transaction(write=False) as tx:
                return query(tx, *args)

        return await asyncio.to_thread(run)

    async def fresh_views(self, *names: str) -> None:
        """Wait until the views hold everything logged so far (read-your-writes)."""
        head = await asyncio.to_thread(self.store.head)
        caught_up = await asyncio.to_thread(
            self.runner.wait_until, head, self.settings.read_your_writes_timeout_seconds, names
        )
        if not caught_up:
            log.warning("views %s did not reach position %s in time", names or "all", head)
            raise ViewsBehind(f"the views are catching up with the log (position {head})")

    def refresh_gauges(self) -> None:
        head = self.store.head()
        LOG_HEAD.set(head)
        for name in self.runner.projections:
            position = self.runner.position(name)
            PROJECTION_POSITION.labels(projection=name).set(position)
            PROJECTION_LAG.labels(projection=name).set(max(0, head - position))

    async def ready(self) -> dict[str, bool]:
        checks = await asyncio.to_thread(self._store_and_log_ready)
        if isinstance(self.rate_limiter, RedisRateLimiter):
            checks["rate_limits"] = await self.rate_limiter.ping()
        return checks

    def _store_and_log_ready(self) -> dict[str, bool]:
        checks = {"store": False, "log": False}
        try:
            self.store.head()
            checks["store"] = True
        except Exception:
            log.exception("store not reachable")
        if self.settings.log == "embedded":
            checks["log"] = checks["store"]
        else:
            from infra.log.kafka_topic import kafka_reachable

            checks["log"] = kafka_reachable(self.settings)
        return checks


def _identity_provider(settings: Settings, store: EventStore, bus: CommandBus) -> IdentityProvider:
    from api.identity.provider import IdentityProvider
    from api.identity.session import Sessions

    box = SecretBox(master_key(settings))
    keys = SigningKeys(store, bus, box, settings.access_token_lifetime_seconds)
    sessions = Sessions(
        box.derive_key("session-cookie"), secure=settings.issuer_url.startswith("https://")
    )
    if settings.log == "kafka" and settings.issuer is None:
        log.warning(
            "no HUBLINE_ISSUER: this node issues and accepts tokens as %s only; set the public"
            " URL so that every node accepts every node's tokens",
            settings.issuer_url,
        )
    tokens = AccessTokens(
        keys,
        settings.issuer_url,
        settings.access_token_lifetime_seconds,
        settings.access_token_clock_skew_seconds,
    )
    login_failures = failure_limiter(
        settings,
        "login",
        settings.login_failures_per_address,
        settings.login_failure_window_seconds,
    )
    return IdentityProvider(
        keys,
        tokens,
        Directory(store),
        bus,
        settings.refresh_token_lifetime_seconds,
        sessions,
        login_failures,
    )


def failure_limiter(
    settings: Settings, name: str, limit: int, window_seconds: float
) -> FailureLimiter:
    if settings.redis_url:
        return RedisFailureLimiter(
            settings.redis_url, name, limit, window_seconds, prefix=settings.redis_namespace
        )
    if settings.log == "kafka":
        log.warning("no HUBLINE_REDIS_URL: each node counts failed %s attempts on its own", name)
    return MemoryFailureLimiter(limit, window_seconds)


def _rate_limiter(settings: Settings) -> RateLimiter:
    rules = parse_rules(settings.rate_limit_rules)
    if settings.redis_url:
        return RedisRateLimiter(
            settings.redis_url, rules, prefix=f"{settings.redis_namespace}:rate"
        )
    if settings.log == "kafka":
        log.warning("no HUBLINE_REDIS_URL: each node counts rate limits on its own")
    return MemoryRateLimiter(rules)
