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
        """Wait until the views hold everything logged so far (read-your-writes)."""
        head = await asyncio.to_thread(self._store.head)
        caught_up = await asyncio.to_thread(self._runner.wait_until, head, self._timeout, names)
        if not caught_up:
            log.warning("views %s did not reach position %s in time", names or "all", head)
            raise ViewsBehind(f"the views are catching up with the log (position {head})")
