"""Read-your-writes (issue 9, defect 8): a query behind a large write waits while the views
move and is answered; only views that stand still are a 503 (ViewsBehind)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import pytest

from domain.errors import ViewsBehind
from infra.store.view_reader import ViewReader

TIMEOUT = 0.3


class Log:
    def __init__(self, head: int) -> None:
        self._head = head

    def head(self) -> int:
        return self._head


class Views:
    """Views applying one position every `step` seconds (never, if step is None)."""

    def __init__(self, step: float | None) -> None:
        self._started = time.monotonic()
        self._step = step

    def lowest_position(self, names: Sequence[str] = ()) -> int:
        if self._step is None:
            return 0
        return int((time.monotonic() - self._started) / self._step)

    def wait_until(self, position: int, timeout: float, names: Sequence[str] = ()) -> bool:
        deadline = time.monotonic() + timeout
        while self.lowest_position(names) < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True


def reader(views: Views, head: int) -> ViewReader:
    store: Any = Log(head)
    runner: Any = views
    return ViewReader(views=None, runner=runner, store=store, read_your_writes_timeout=TIMEOUT)  # type: ignore[arg-type]


def test_a_query_behind_a_long_write_waits_while_the_views_move() -> None:
    # Ten positions at one per 50 ms: longer than one timeout, but never standing still.
    started = time.monotonic()
    asyncio.run(reader(Views(step=0.05), head=10).fresh_views("device_access"))
    assert time.monotonic() - started > TIMEOUT


def test_views_that_stand_still_are_reported_after_one_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(ViewsBehind):
        asyncio.run(reader(Views(step=None), head=10).fresh_views("device_access"))
    assert time.monotonic() - started < 2 * TIMEOUT
