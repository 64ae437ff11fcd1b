"""What the HTTP API asks the websocket side about channels; the gateway's registry answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class ChannelCounts(Protocol):
    @property
    def subscription_count(self) -> int: ...

    # Distinct users of a presence channel (0 on other channels).
    @property
    def user_count(self) -> int: ...


class CachedData(Protocol):
    """A cache channel's last event, as info=cache shows it."""

    @property
    def data(self) -> object: ...

    @property
    def ttl_seconds(self) -> int: ...


class ChannelQueries(Protocol):
    def occupied_channels(self, app_id: str, prefix: str = "") -> Mapping[str, ChannelCounts]:
        """The app's channels that have at least one subscriber, whose names start so."""
        ...

    def subscription_count(self, app_id: str, channel: str) -> int: ...

    def presence_user_ids(self, app_id: str, channel: str) -> list[str]: ...

    async def cached_event(self, app_id: str, channel: str) -> CachedData | None:
        """The channel's last event, younger than Pusher's hour; None if it has none."""
        ...
