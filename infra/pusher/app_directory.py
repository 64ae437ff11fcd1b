"""Pusher apps as the HTTP API and the websocket gateway find them: in memory, kept exact.

An app is read from its aggregate (the truth, keyed by its id) the first time it is asked
for and kept until a change to it is seen: this node's commits (before the command is
answered) and the log feed (changes made on other nodes or by the CLI) forget it. A key is
turned into an app id by the `pusher_apps` view; the aggregate then confirms the key, so a
view that lags never hands out a stale app.

Unknown ids and keys are kept for UNKNOWN_SECONDS (at most MAX_UNKNOWN of them), so that a
flood of requests for an app that does not exist costs one store read per name, not one
per request; an app's creation or change, seen on the log feed, forgets them all. `held`
says whether an answer would come from memory: callers on the event loop read the store
in a thread otherwise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from domain.pusher.apps import AppConfig
from domain.pusher.pusher_app import PusherApp, app_config, pusher_app_id
from infra.identity.secret_box import SecretBox
from infra.pusher.credentials import open_secret
from infra.store.aggregates import AggregateLoader
from infra.store.view_database import ViewDatabase
from projections.pusher_app_view import app_id_by_key
from projections.records import LogRecord

_APP_EVENTS = "PusherApp."
# Events of an app that change nothing a surface reads of it.
_NOT_CONFIG = frozenset({PusherApp.UserConnectionsTerminated.__qualname__})
UNKNOWN_SECONDS = 2.0
MAX_UNKNOWN = 10_000


class PusherAppDirectory:
    def __init__(self, aggregates: AggregateLoader, views: ViewDatabase, box: SecretBox) -> None:
        self._aggregates = aggregates
        self._views = views
        self._box = box
        # Forgetting runs on the command bus's thread and the event loop; reads in threads.
        self._lock = threading.Lock()
        self._by_id: dict[str, AppConfig] = {}
        self._id_of_key: dict[str, str] = {}
        # aggregate id -> app id, to forget by the ids a commit or the log names.
        self._app_of: dict[str, str] = {}
        # Store reads in flight, and the apps changed while one was: such a read may predate
        # the change, so its answer is used once but not kept.
        self._reading: dict[str, int] = {}
        self._changed_while_reading: set[str] = set()
        # Ids (as aggregate ids) and keys found to name no app -> when that answer expires
        # (monotonic). Insertion order is age order, so the oldest go first when full.
        self._unknown_ids: dict[str, float] = {}
        self._unknown_keys: dict[str, float] = {}

    def held(self, app_id: str | None = None, key: str | None = None) -> bool:
        """Whether by_id(app_id) (or, without an id, by_key(key)) answers from memory."""
        now = time.monotonic()
        with self._lock:
            if app_id is not None:
                return app_id in self._by_id or _fresh(
                    self._unknown_ids, str(pusher_app_id(app_id)), now
                )
            if key is None:
                return True
            known = self._id_of_key.get(key)
            if known is not None:
                return known in self._by_id
            return _fresh(self._unknown_keys, key, now)

    def by_id(self, app_id: str) -> AppConfig | None:
        aggregate_id = str(pusher_app_id(app_id))
        with self._lock:
            known = self._by_id.get(app_id)
            if known is not None:
                return known
            if _fresh(self._unknown_ids, aggregate_id, time.monotonic()):
                return None
            self._reading[aggregate_id] = self._reading.get(aggregate_id, 0) + 1
        config = None
        try:
            app = self._aggregates.get(PusherApp, pusher_app_id(app_id))
            if app is not None:
                config = app_config(app, open_secret(self._box, app.secret))
        finally:
            with self._lock:
                if aggregate_id in self._changed_while_reading:
                    pass
                elif config is not None:
                    self._by_id[app_id] = config
                    self._id_of_key[config.key] = app_id
                    self._app_of[aggregate_id] = app_id
                else:
                    _remember_unknown(self._unknown_ids, aggregate_id)
                left = self._reading[aggregate_id] - 1
                if left:
                    self._reading[aggregate_id] = left
                else:
                    del self._reading[aggregate_id]
                    self._changed_while_reading.discard(aggregate_id)
        return config

    def by_key(self, key: str) -> AppConfig | None:
        with self._lock:
            app_id = self._id_of_key.get(key)
            if app_id is None and _fresh(self._unknown_keys, key, time.monotonic()):
                return None
        if app_id is None:
            with self._views.transaction(write=False) as tx:
                app_id = app_id_by_key(tx, key)
            if app_id is None:
                with self._lock:
                    _remember_unknown(self._unknown_keys, key)
                return None
        config = self.by_id(app_id)
        return config if config is not None and config.key == key else None

    def forget(self, ids: Iterable[str]) -> None:
        """Forget these apps (ids of other aggregates are ignored)."""
        with self._lock:
            for aggregate_id in ids:
                # The app created under this id was asked for in vain before.
                self._unknown_ids.pop(aggregate_id, None)
                if aggregate_id in self._reading:
                    self._changed_while_reading.add(aggregate_id)
                app_id = self._app_of.pop(aggregate_id, None)
                if app_id is None:
                    continue
                config = self._by_id.pop(app_id, None)
                if config is not None:
                    self._id_of_key.pop(config.key, None)

    def forget_changed(self, records: Sequence[LogRecord]) -> None:
        """A log feed listener: forget every app the records changed."""
        changed = [
            r.aggregate_id
            for r in records
            if r.type.startswith(_APP_EVENTS) and r.type not in _NOT_CONFIG
        ]
        if changed:
            with self._lock:
                # A new app, or a new key, may be one that was asked for in vain.
                self._unknown_ids.clear()
                self._unknown_keys.clear()
            self.forget(changed)


def _fresh(unknown: dict[str, float], name: str, now: float) -> bool:
    expires = unknown.get(name)
    if expires is None:
        return False
    if expires > now:
        return True
    del unknown[name]
    return False


def _remember_unknown(unknown: dict[str, float], name: str) -> None:
    unknown.pop(name, None)
    unknown[name] = time.monotonic() + UNKNOWN_SECONDS
    while len(unknown) > MAX_UNKNOWN:
        del unknown[next(iter(unknown))]
