"""Watchlists: a signed-in user hears when the users it watches come online and go offline.

A user is online while it has at least one signed-in socket. This node tells the class
when a user's first socket signed in (`came_online`) and its last one left
(`went_offline`); a cluster-wide presence can call the same two methods for every node's
users instead. The frames are the ones pusher-js reads:
`pusher_internal:watchlist_events` with `{"events": [{"name": "online"|"offline",
"user_ids": [...]}]}`, first the watched users' current state, then each change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.pusher.channel_names import user_id_problem
from gateways.pusher import protocol

# Pusher's limit on the users one watchlist names.
MAX_WATCHED = 100
# The pusher:error code of a refused watchlist (Sockudo's; the socket stays open).
WATCHLIST_REFUSED = 4302
WATCHLIST_EVENTS = "pusher_internal:watchlist_events"


class WatchlistRefused(ValueError):
    """A watchlist that is not a list of at most MAX_WATCHED user ids."""


class Watcher(Protocol):
    """What a watchlist needs of a socket."""

    @property
    def socket_id(self) -> str: ...

    def deliver(self, text: str) -> None: ...


def parse_watchlist(value: object) -> tuple[str, ...]:
    """The user ids of a sign-in's `user_data.watchlist` (absent: none)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise WatchlistRefused("watchlist must be a list of user ids")
    if len(value) > MAX_WATCHED:
        raise WatchlistRefused(f"a watchlist names at most {MAX_WATCHED} users")
    for user_id in value:
        problem = user_id_problem(user_id) if isinstance(user_id, str) else "not a string"
        if problem is not None:
            raise WatchlistRefused(f"invalid watchlist entry: {problem}")
    return tuple(dict.fromkeys(value))


def watchlist_frame(online: Sequence[str], offline: Sequence[str]) -> str:
    events = [
        {"name": name, "user_ids": list(ids)}
        for name, ids in (("online", online), ("offline", offline))
        if ids
    ]
    return protocol.event(WATCHLIST_EVENTS, {"events": events})


class Watchlists:
    """Per app: who is online, and which sockets watch which user. Event loop only."""

    def __init__(self) -> None:
        self._online: dict[str, set[str]] = {}
        # (app id, watched user) -> the sockets watching it.
        self._watchers: dict[tuple[str, str], dict[str, Watcher]] = {}
        # Only sockets that watch someone are here, with what they watch.
        self._watching: dict[str, tuple[str, tuple[str, ...]]] = {}

    def is_online(self, app_id: str, user_id: str) -> bool:
        return user_id in self._online.get(app_id, ())

    def watch(self, app_id: str, watcher: Watcher, user_ids: Sequence[str]) -> None:
        """Replaces what the socket watches and sends it the watched users' state."""
        self.unwatch(watcher)
        if not user_ids:
            return
        self._watching[watcher.socket_id] = (app_id, tuple(user_ids))
        for user_id in user_ids:
            self._watchers.setdefault((app_id, user_id), {})[watcher.socket_id] = watcher
        online = [u for u in user_ids if self.is_online(app_id, u)]
        offline = [u for u in user_ids if not self.is_online(app_id, u)]
        watcher.deliver(watchlist_frame(online, offline))

    def unwatch(self, watcher: Watcher) -> None:
        watched = self._watching.pop(watcher.socket_id, None)
        if watched is None:
            return
        app_id, user_ids = watched
        for user_id in user_ids:
            key = (app_id, user_id)
            sockets = self._watchers.get(key)
            if sockets is not None:
                sockets.pop(watcher.socket_id, None)
                if not sockets:
                    del self._watchers[key]

    def came_online(self, app_id: str, user_id: str) -> None:
        online = self._online.setdefault(app_id, set())
        if user_id not in online:
            online.add(user_id)
            self._tell(app_id, user_id, watchlist_frame([user_id], ()))

    def went_offline(self, app_id: str, user_id: str) -> None:
        online = self._online.get(app_id)
        if online is None or user_id not in online:
            return
        online.discard(user_id)
        if not online:
            del self._online[app_id]
        self._tell(app_id, user_id, watchlist_frame((), [user_id]))

    def _tell(self, app_id: str, user_id: str, frame: str) -> None:
        for watcher in list(self._watchers.get((app_id, user_id), {}).values()):
            watcher.deliver(frame)
