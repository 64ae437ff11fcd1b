"""The one settings object, and the one place that reads the environment.

Precedence: command-line flags, then HUBLINE_* environment variables, then defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

LogBackend = Literal["embedded", "kafka"]


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    # "embedded": the store's own notification log, read in-process.
    # "kafka": a relay publishes the log to Kafka; gateways and workers consume it.
    log: LogBackend = "embedded"
    # None means an SQLite file under data_dir; otherwise a postgresql:// URL.
    database: str | None = None
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_topic: str = "hubline.events"
    # One partition keeps the whole log in one total order, which makes a read-model's
    # position exact; more partitions spread projection workers (per-aggregate order).
    kafka_partitions: int = 1
    node_id: str = field(default_factory=lambda: f"node-{os.getpid()}")
    # Whether devices must pass the DeviceAuth challenge to connect.
    device_auth_enforced: bool = True
    challenge_ttl_seconds: float = 30.0
    # Failed device connection attempts allowed per window, per device and per address.
    device_auth_failures_per_window: int = 10
    device_auth_failure_window_seconds: float = 60.0
    max_upload_bytes: int = 5 * 1024 * 1024
    # Every other request body, bounded while it is read (JSON bodies, OAuth forms).
    max_body_bytes: int = 64 * 1024
    # Transport limits of `hubline serve`. A request head (request line and headers) must
    # arrive whole within this many seconds of its first byte (of connecting, for the first
    # request) or the connection is answered 408 and closed.
    header_timeout_seconds: float = 10.0
    # How long an idle keep-alive connection stays open between requests.
    keep_alive_timeout_seconds: int = 5
    # A longer request target (path and query) is answered 414, a larger header block 431.
    max_url_bytes: int = 8 * 1024
    max_header_bytes: int = 16 * 1024
    # Open connections (websocket sessions included) or running requests past which a new
    # request or websocket upgrade is answered 503. Each idle session holds ~45 KiB.
    max_connections: int = 10_000
    # The largest message a websocket client may send; a larger one closes it with 1009.
    max_websocket_message_bytes: int = 1024 * 1024
    # How long shutdown waits for running requests and sessions before cancelling them.
    shutdown_timeout_seconds: int = 10
    # Commands that queue up while a transaction commits are saved together, up to this many.
    max_batch_size: int = 500
    # Aggregates kept in memory between commands; each use still reads the events written
    # since (by this node or another), so the cache never answers with a stale state.
    aggregate_cache_size: int = 10_000
    # How long a query waits for its read model to reach the log head before answering.
    read_your_writes_timeout_seconds: float = 5.0
    log_level: str = "info"
    # The identity provider's issuer URL; by default this server's own address.
    issuer: str | None = None
    # Base64 of 32 bytes that encrypt stored secrets (signing keys). Required when
    # distributed; the embedded deployment creates data_dir/master.key once.
    secret_key: str | None = None
    access_token_lifetime_seconds: int = 3600
    # How far a resource server's clock may be from the issuer's when checking exp and iat.
    access_token_clock_skew_seconds: int = 30
    refresh_token_lifetime_seconds: int = 15 * 24 * 3600
    client_secret_grace_seconds: int = 24 * 3600
    # Failed logins from one address within the window before it is refused for a while.
    login_failures_per_address: int = 20
    login_failure_window_seconds: float = 900.0
    # Per user and client, shortest period first checked (the SENZ limits by default).
    rate_limit_rules: str = "50/1s,750/30m,20000/12h,250000/7d"
    # Shared rate-limit counters for the distributed deployment (redis://…).
    redis_url: str | None = None
    # How often live websocket sessions act on a change the log showed to their credential
    # (an API token or grant revoked on any node); expiry ends a session at the exact time.
    session_recheck_seconds: float = 1.0
    # A JSON file of Pusher apps this deployment serves ({"apps": [{"app_id", "key",
    # "secret", "name", "enabled", "limits", "webhooks"}]}): each is created or brought in
    # line with the file at start, for fixed deployments.
    pusher_apps_file: str | None = None
    # Pusher's HTTP API is served under /apps/…, and under this prefix too ("/pusher"),
    # for clients that are told a path prefix.
    pusher_path_prefix: str = ""
    # The bound of a Pusher API request body before its app is known; each app's own limits
    # then bound it further (a full batch of 10 events of 100 KiB fits).
    pusher_max_body_bytes: int = 4 * 1024 * 1024
    # Pusher sockets: the server pings one silent this long (and advertises it as
    # activity_timeout), then closes it with 4201 if nothing comes within the pong timeout.
    pusher_activity_timeout_seconds: float = 120.0
    pusher_pong_timeout_seconds: float = 30.0
    # Each serve node renews its Pusher lease (and checks the others') this often; a node
    # whose lease is older than the expiry is declared gone and its presence members leave
    # every other node's view: at most expiry + renew (25 s) after it died.
    pusher_lease_renew_seconds: float = 5.0
    pusher_lease_expires_seconds: float = 20.0
    # Requests to Pusher's HTTP API per app, past which it answers 429 (counted in Redis
    # when redis_url is set, so for the whole deployment); empty: no limit.
    pusher_api_rate_limit_rules: str | None = "10000/1s"
    # OpenShock's REST limits, requests a minute (0: none), as the real backend's: per
    # authenticated user (sliding), per address without a credential (sliding; loopback is
    # exempt), and per address on login, signup, password reset and pairing (fixed).
    openshock_user_requests_per_minute: int = 120
    openshock_anonymous_requests_per_minute: int = 1000
    openshock_auth_requests_per_minute: int = 10
    # Where OpenShock hubs and live-control clients are sent (assignLCG, /devices/{id}/lcg):
    # a public address such as wss://gateway.example.com[:port][/prefix] when a proxy or load
    # balancer fronts the nodes; unset, the host and port each request came to. The country
    # is what those answers report (XX: unknown).
    openshock_gateway_url: str | None = None
    openshock_gateway_country: str = "XX"
    # The hub websocket's keep-alive, as the real gateway's: a Ping this long after connecting
    # and then every openshock_hub_ping_seconds; a hub that sends no Pong (or V1 KeepAlive)
    # within the first window of connecting, or within the second of its last one, is cut off.
    openshock_hub_first_ping_seconds: float = 5.0
    openshock_hub_ping_seconds: float = 15.0
    openshock_hub_first_keep_alive_seconds: float = 65.0
    openshock_hub_keep_alive_seconds: float = 35.0
    # How often a node looks for hubs held by nodes that are gone (their lease expired after
    # pusher_lease_expires_seconds) and records them disconnected.
    openshock_hub_sweep_seconds: float = 10.0

    @property
    def issuer_url(self) -> str:
        return (self.issuer or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def redis_namespace(self) -> str:
        """Key prefix in a shared Redis: one deployment (one log) does not see another's."""
        return f"hubline:{self.kafka_topic}"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "hubline.sqlite"

    @property
    def read_model_sqlite_path(self) -> Path:
        return self.data_dir / "views.sqlite"

    @classmethod
    def load(
        cls, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        env = os.environ if environ is None else environ
        given = {k: v for k, v in (flags or {}).items() if v is not None}
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in given:
                values[f.name] = _coerce(f.name, given[f.name], cls)
            elif (raw := _from_environment(env, f.name)) is not None:
                values[f.name] = _coerce(f.name, raw, cls)
        settings = cls(**values)
        settings.validate()
        return settings

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def validate(self) -> None:
        if self.log not in ("embedded", "kafka"):
            raise ValueError(f"log must be 'embedded' or 'kafka', not {self.log!r}")
        if self.database is not None and not self.database.startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("database must be a postgresql:// URL (or unset for SQLite)")
        if self.log == "kafka" and self.database is None:
            raise ValueError("the Kafka log needs a PostgreSQL database (--database)")
        for limit in ("header_timeout_seconds", "max_url_bytes", "max_header_bytes"):
            if not getattr(self, limit) > 0:
                raise ValueError(f"{limit} must be more than 0")
        if not self.session_recheck_seconds > 0:
            raise ValueError("session_recheck_seconds must be more than 0")
        if self.pusher_path_prefix and not re.fullmatch(
            r"(/[-A-Za-z0-9_.~]+)+", self.pusher_path_prefix
        ):
            raise ValueError("pusher_path_prefix is a path such as /pusher (no trailing /)")


def _coerce(name: str, raw: Any, cls: type[Settings]) -> Any:
    annotation = str(next(f.type for f in fields(cls) if f.name == name))
    if annotation == "bool":
        return raw if isinstance(raw, bool) else str(raw).strip().lower() in _TRUE
    if annotation == "int":
        return int(raw)
    if annotation == "float":
        return float(raw)
    if annotation == "Path":
        return Path(raw)
    if "None" in annotation:
        return str(raw) if raw else None
    return str(raw)


_TRUE = frozenset({"1", "true", "yes", "on", "y"})


# Variables named after the command-line option rather than the field, first name first;
# the later names are old spellings still read.
_ENVIRONMENT_NAMES: dict[str, tuple[str, ...]] = {"log": ("HUBLINE_EVENT_LOG", "HUBLINE_LOG")}


def _from_environment(env: Mapping[str, str], field_name: str) -> str | None:
    for name in _ENVIRONMENT_NAMES.get(field_name, (f"HUBLINE_{field_name.upper()}",)):
        if (raw := env.get(name)) is not None:
            return raw
    return None
