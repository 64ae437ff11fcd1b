"""What a Pusher app is, as every surface that serves one reads it.

The websocket gateway and the HTTP API both read apps through `AppDirectory`; the values
are frozen so that a cached app can be shared between requests and sockets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class AppLimits:
    """Per-app limits; the defaults are Sockudo's, so a moved app keeps its behaviour."""

    # None: no quota beyond the server's own `max_connections`.
    max_connections: int | None = None
    client_events: bool = True
    max_event_payload_bytes: int = 100 * 1024
    max_channels_per_trigger: int = 100
    max_events_per_batch: int = 10
    max_event_name_length: int = 200
    max_channel_name_length: int = 164
    max_presence_members: int = 100
    max_presence_member_bytes: int = 2048
    # Sockudo's test apps and sample configs use 100; Pusher's own service allows 10.
    max_client_events_per_second: int = 100
    # pusher_internal:subscription_count to the subscribers of non-presence channels when
    # their count changes; off unless enabled, as on Pusher.
    subscription_count_events: bool = False


@dataclass(frozen=True)
class Webhook:
    url: str
    event_types: tuple[str, ...]
    # Only channels whose name starts with this are reported; None: every channel.
    channel_prefix: str | None = None


@dataclass(frozen=True)
class AppConfig:
    app_id: str
    key: str
    secret: str
    name: str
    enabled: bool = True
    limits: AppLimits = field(default_factory=AppLimits)
    webhooks: tuple[Webhook, ...] = ()


class AppDirectory(Protocol):
    """Finds an app by the key its sockets and signatures carry, or by its id in a path."""

    def by_key(self, key: str) -> AppConfig | None: ...

    def by_id(self, app_id: str) -> AppConfig | None: ...
