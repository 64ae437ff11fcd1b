"""What a node's channel registry asks of the other nodes, and tells them.

The registry holds this node's sockets; `PresenceCluster` (presence_cluster.py) holds what
the other nodes reported through the log. A registry alone (unit tests, a lone node) has
no peers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class NodePeers(Protocol):
    def remote_members(self, app_id: str, channel: str) -> Mapping[str, Any]:
        """The channel's presence members held by other live nodes: user id -> user_info."""
        ...

    def remote_subscriptions(self, app_id: str, channel: str) -> int:
        """The channel's subscriptions on other live nodes."""
        ...

    def online_elsewhere(self, app_id: str, user_id: str) -> bool:
        """The user has a signed-in socket on another live node."""
        ...

    def signed_in(self, app_id: str, user_id: str) -> None:
        """A user's first signed-in socket on this node."""

    def signed_out(self, app_id: str, user_id: str) -> None:
        """A user's last signed-in socket on this node left."""

    def joined(self, app_id: str, channel: str, user_id: str, user_info: Any) -> None:
        """A user's first socket in the channel on this node."""

    def left(self, app_id: str, channel: str, user_id: str) -> None:
        """A user's last socket in the channel on this node."""

    def occupied(self, app_id: str, channel: str) -> None:
        """The channel's first subscriber on this node."""

    def vacated(self, app_id: str, channel: str) -> None:
        """The channel's last subscriber on this node left."""

    def counted(self, app_id: str, channel: str) -> None:
        """The channel's subscriptions on this node changed (reported debounced)."""

    def cache_missed(self, app_id: str, channel: str) -> None:
        """A subscriber of a cache channel found nothing cached (a webhook may want it)."""


class NoPeers:
    def remote_members(self, app_id: str, channel: str) -> Mapping[str, Any]:
        return {}

    def remote_subscriptions(self, app_id: str, channel: str) -> int:
        return 0

    def online_elsewhere(self, app_id: str, user_id: str) -> bool:
        return False

    def signed_in(self, app_id: str, user_id: str) -> None:
        pass

    def signed_out(self, app_id: str, user_id: str) -> None:
        pass

    def joined(self, app_id: str, channel: str, user_id: str, user_info: Any) -> None:
        pass

    def left(self, app_id: str, channel: str, user_id: str) -> None:
        pass

    def occupied(self, app_id: str, channel: str) -> None:
        pass

    def vacated(self, app_id: str, channel: str) -> None:
        pass

    def counted(self, app_id: str, channel: str) -> None:
        pass

    def cache_missed(self, app_id: str, channel: str) -> None:
        pass
