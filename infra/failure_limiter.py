"""Counts failures (device challenges, logins) per key in a sliding window, on this node."""

from __future__ import annotations

import time
from collections import deque


class FailureLimiter:
    def __init__(self, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self._limit = limit
        self._window = window_seconds
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, *keys: str) -> float:
        """Seconds until every key may try again; 0 when none is blocked."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            recent = self._trimmed(key, now)
            if recent is not None and len(recent) >= self._limit:
                wait = max(wait, recent[0] + self._window - now)
        return wait

    def record_failure(self, *keys: str) -> None:
        now = time.monotonic()
        if len(self._failures) > self._max_keys:
            # Keep memory bounded under a flood of distinct identifiers.
            for key in [
                k for k, v in self._failures.items() if not v or v[-1] < now - self._window
            ]:
                del self._failures[key]
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def recent(self, key: str) -> int:
        recent = self._trimmed(key, time.monotonic())
        return len(recent) if recent is not None else 0

    def _trimmed(self, key: str, now: float) -> deque[float] | None:
        recent = self._failures.get(key)
        if recent is None:
            return None
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        return recent
