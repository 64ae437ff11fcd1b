"""What a serve node asks the `pusher_cache` view about a cache channel its memory lacks.

A node's feed brings every event from when it started; the view must hold what came
before. So the first read waits (once, bounded) until the view reached the log head as it
stood then: the feed had started, so anything later comes through it. Until the view got
there, a channel it has no row for may still have an event on the way, and the answer is
ViewsBehind rather than a miss the gateway would keep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from domain.errors import ViewsBehind
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase
from projections.pusher_cache_view import CachedChannelEvent, PusherCacheView, last_cache_event


class CacheChannelView:
    def __init__(
        self,
        views: ViewDatabase,
        runner: ProjectionRunner,
        log_head: Callable[[], int],
        wait_seconds: float,
    ) -> None:
        self._views = views
        self._runner = runner
        self._log_head = log_head
        self._wait_seconds = wait_seconds
        # Called from worker threads.
        self._lock = threading.Lock()
        self._target: int | None = None
        self._waited = False
        self._caught_up = False

    def last_event(self, app_id: str, channel: str) -> CachedChannelEvent | None:
        caught_up = self._caught_up or self._catch_up()
        with self._views.transaction(write=False) as tx:
            found = last_cache_event(tx, app_id, channel)
        if found is None and not caught_up:
            raise ViewsBehind(f"the pusher_cache view has not reached position {self._target}")
        return found

    def _catch_up(self) -> bool:
        # Reads that come meanwhile wait behind the first one's wait, not beside it.
        with self._lock:
            if self._caught_up:
                return True
            if self._target is None:
                self._target = self._log_head()
            # Only the first read waits: a view that a worker of an older release does not
            # keep would hold every later read for the whole wait.
            wait = 0.0 if self._waited else self._wait_seconds
            self._waited = True
            if self._runner.wait_until(self._target, wait, [PusherCacheView.name]):
                self._caught_up = True
            return self._caught_up
