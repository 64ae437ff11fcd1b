"""Delivers what projections/openshock_user_notifications.py says to this node's SignalR
connections of /1/hubs/user and /1/hubs/share/link/{id}.

Every node's log feed carries every record, so each node tells its own connections. Records
that may tell someone something are taken off the event loop in log order, one batch at a
time, to a worker thread where the notices are made (names and tokens are read from the
views there); a batch arriving while one is being read waits and joins the next.
A user connection hears about the hubs it watches: the user's own and those a shocker of
which is shared with them, read when it connects and again when a share comes or goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from domain.errors import ViewsBehind
from gateways.signalr.hub_server import HubConnection
from infra.log.feed import LogFeed
from infra.store.view_reader import ViewReader
from projections.openshock_hub_link_view import HubStatus, hub_statuses
from projections.openshock_hub_view import hubs_of
from projections.openshock_share_view import shared_with
from projections.openshock_user_notifications import (
    DELETED,
    AccessChanged,
    Delivery,
    HubWatchers,
    Notice,
    ToShareLink,
    ToUser,
    UserNotifications,
    relevant,
)
from projections.records import LogRecord
from projections.view_store import ViewTransaction

log = logging.getLogger(__name__)

# What a connection's watched hubs are read from.
WATCH_VIEWS = ("openshock_hubs", "openshock_user_shares", "openshock_hub_links")
# Records waiting for the worker thread; past this (the views stalled) the oldest are dropped.
MAX_PENDING_RECORDS = 50_000
_WATCHED = "openshock.watched_hubs"


def watched_hubs(tx: ViewTransaction, user_id: str) -> tuple[list[str], list[HubStatus]]:
    """The user's own hubs and the hubs of shockers shared with them, and their states."""
    own = [hub.id for hub in hubs_of(tx, user_id)]
    shared = [hub.id for owner in shared_with(tx, user_id) for hub in owner.hubs]
    hub_ids = list(dict.fromkeys(own + shared))
    return hub_ids, hub_statuses(tx, hub_ids)


def device_states(statuses: Iterable[HubStatus]) -> list[dict[str, Any]]:
    """DeviceStatus on connect: the online hubs only, as the real hub answers it."""
    return [
        {"device": s.hub_id, "online": True, "firmwareVersion": s.firmware_version}
        for s in statuses
        if s.online
    ]


class HubNotices:
    def __init__(self, feed: LogFeed, views: ViewReader) -> None:
        self._views = views
        self._notifications = UserNotifications()
        self._by_user: dict[str, set[HubConnection]] = defaultdict(set)
        self._by_hub: dict[str, set[HubConnection]] = defaultdict(set)
        self._by_link: dict[str, set[HubConnection]] = defaultdict(set)
        self._pending: list[LogRecord] = []
        self._worker: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        feed.add_listener(self._on_records)

    # --- connections ---

    def add_user(self, connection: HubConnection, user_id: str) -> None:
        connection.items[_WATCHED] = set()
        self._by_user[user_id].add(connection)

    def watch(self, connection: HubConnection, hub_ids: Iterable[str]) -> None:
        """Replaces the hubs the connection hears about."""
        old: set[str] = connection.items.get(_WATCHED, set())
        new = set(hub_ids)
        for hub_id in old - new:
            _discard(self._by_hub, hub_id, connection)
        for hub_id in new - old:
            self._by_hub[hub_id].add(connection)
        connection.items[_WATCHED] = new

    def remove_user(self, connection: HubConnection, user_id: str) -> None:
        self.watch(connection, ())
        _discard(self._by_user, user_id, connection)

    def add_link_guest(self, connection: HubConnection, link_id: str) -> None:
        self._by_link[link_id].add(connection)

    def remove_link_guest(self, connection: HubConnection, link_id: str) -> None:
        _discard(self._by_link, link_id, connection)

    # --- the log ---

    def _on_records(self, records: Sequence[LogRecord]) -> None:
        if not (self._by_user or self._by_link):
            return  # nobody to tell (the link states it misses cost a redundant status)
        wanted = [r for r in records if relevant(r)]
        if not wanted:
            return
        self._pending.extend(wanted)
        if len(self._pending) > MAX_PENDING_RECORDS:
            dropped = len(self._pending) - MAX_PENDING_RECORDS
            log.warning("OpenShock hub notices: %d records dropped, the views are behind", dropped)
            del self._pending[:dropped]
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    notices = await self._views.query(self._notifications.notices, batch)
                except Exception as exc:
                    log.warning("OpenShock hub notices: could not read the views: %s", exc)
                    continue
                for notice in notices:
                    await self._deliver(notice)
        finally:
            self._worker = None

    async def _deliver(self, notice: Notice) -> None:
        if isinstance(notice, AccessChanged):
            await self._rewatch(notice.user_id)
            return
        audience = notice.audience
        if isinstance(audience, ToUser):
            told: Iterable[HubConnection] = self._by_user.get(audience.user_id, ())
        elif isinstance(audience, ToShareLink):
            told = self._by_link.get(audience.share_link_id, ())
        else:
            told = self._hub_watchers(audience, notice)
        for connection in list(told):
            self._send(connection, notice)

    def _hub_watchers(self, audience: HubWatchers, notice: Delivery) -> set[HubConnection]:
        told = set(self._by_hub.get(audience.hub_id, ()))
        if audience.owner_id is not None:
            owners = self._by_user.get(audience.owner_id, set())
            told |= owners
            for connection in owners:  # a new hub: its owner hears about it from now on
                self.watch(connection, connection.items.get(_WATCHED, set()) | {audience.hub_id})
        if notice.target == "DeviceUpdate" and notice.arguments[1] == DELETED:
            for connection in told:
                self.watch(connection, connection.items.get(_WATCHED, set()) - {audience.hub_id})
        return told

    async def _rewatch(self, user_id: str) -> None:
        connections = list(self._by_user.get(user_id, ()))
        if not connections:
            return
        with_views_behind = False
        try:
            await self._views.fresh_views(*WATCH_VIEWS)
        except ViewsBehind:
            with_views_behind = True
        try:
            hub_ids, _ = await self._views.query(watched_hubs, user_id)
        except Exception as exc:
            log.warning("OpenShock hub notices: could not read %s's hubs: %s", user_id, exc)
            return
        if with_views_behind:
            log.info("OpenShock hub notices: %s's hubs read from views behind the log", user_id)
        for connection in connections:
            self.watch(connection, hub_ids)

    def _send(self, connection: HubConnection, notice: Delivery) -> None:
        # One task per message, created in log order: a slow client holds up no other.
        task = asyncio.get_running_loop().create_task(
            _invoke(connection, notice.target, notice.arguments)
        )
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)


async def _invoke(connection: HubConnection, target: str, arguments: tuple[Any, ...]) -> None:
    try:
        await connection.invoke(target, *arguments)
    except Exception:
        log.debug("could not tell %s %s; it is closing", connection.connection_id, target)


def _discard(index: dict[str, set[HubConnection]], key: str, connection: HubConnection) -> None:
    found = index.get(key)
    if found is not None:
        found.discard(connection)
        if not found:
            del index[key]
