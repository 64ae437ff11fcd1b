"""Queries of the read models, for the routes: in a worker thread, after the views caught up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from domain.errors import ViewsBehind
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase

log = logging.getLogger(__name__)
T = TypeVar("T")
# How many read-your-writes timeouts a query waits while the views keep moving.
_PATIENCE = 3


class ViewReader:
    def __init__(
        self,
        views: ViewDatabase,
        runner: ProjectionRunner,
        store: EventStore,
        read_your_writes_timeout: float,
    ) -> None:
        self._views = views
        self._runner = runner
        self._store = store
        self._timeout = read_your_writes_timeout

    async def query(self, query: Callable[..., T], *args: Any) -> T:
        """Run a view query in a worker thread, in one read transaction."""

        def run() -> T:
            with self._views.transaction(write=False) as tx:
                return query(tx, *args)

        return await asyncio.to_thread(run)

    async def fresh_views(self, *names: str) -> None:
        """Wait until the views hold everything logged so far (read-your-writes).

        A query waits as long as the views are moving, `_PATIENCE` timeouts at most: a
        reader that arrives behind a large write is answered late, not refused. Only views
        that did not move for a whole timeout (a stopped projection worker) are a 503.
        """
        head = await asyncio.to_thread(self._store.head)
        reached = await asyncio.to_thread(self._runner.lowest_position, names)
        for _ in range(_PATIENCE):
            if await asyncio.to_thread(self._runner.wait_until, head, self._timeout, names):
                return
            moved_to = await asyncio.to_thread(self._runner.lowest_position, names)
            if moved_to <= reached:
                break
            reached = moved_to
        log.warning("views %s did not reach position %s in time", names or "all", head)
        raise ViewsBehind(f"the views are catching up with the log (position {head})")

    async def log_head(self) -> int:
        return await asyncio.to_thread(self._store.head)

    async def keep_pace(self, position: int) -> None:
        """For a writer of many transactions (a large upload): wait until every view applied
        `position`, so that the views trail it by little and readers rarely wait. Never
        fails: if the views are stuck, the writer goes on after one timeout."""
        await asyncio.to_thread(self._runner.wait_until, position, self._timeout)
