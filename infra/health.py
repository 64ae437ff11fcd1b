"""Whether this node can serve (store, log, shared limits), and the log gauges /metrics shows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from infra.limits.rate_limits import RateLimiter, RedisRateLimiter
from infra.metrics import LOG_HEAD, PROJECTION_LAG, PROJECTION_POSITION
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner

log = logging.getLogger(__name__)


class Health:
    def __init__(
        self,
        store: EventStore,
        runner: ProjectionRunner,
        log_reachable: Callable[[], bool] | None,
        rate_limiter: RateLimiter,
    ) -> None:
        self._store = store
        self._runner = runner
        # None: the log is the store's own (embedded), reachable when the store is.
        self._log_reachable = log_reachable
        self._rate_limiter = rate_limiter

    async def ready(self) -> dict[str, bool]:
        checks = await asyncio.to_thread(self._store_and_log_ready)
        if isinstance(self._rate_limiter, RedisRateLimiter):
            checks["rate_limits"] = await self._rate_limiter.ping()
        return checks

    def _store_and_log_ready(self) -> dict[str, bool]:
        checks = {"store": False, "log": False}
        try:
            self._store.head()
            checks["store"] = True
        except Exception:
            log.exception("store not reachable")
        if self._log_reachable is None:
            checks["log"] = checks["store"]
        else:
            checks["log"] = self._log_reachable()
        return checks

    def refresh_gauges(self) -> None:
        head = self._store.head()
        LOG_HEAD.set(head)
        for name in self._runner.projections:
            position = self._runner.position(name)
            PROJECTION_POSITION.labels(projection=name).set(position)
            PROJECTION_LAG.labels(projection=name).set(max(0, head - position))
