"""What the Redis-backed limiters do while Redis is unreachable: count on this node.

Refusing every request because the counters are out of reach would turn a Redis outage
into an API outage. Instead a limiter falls back to its in-memory twin (limits then hold
per node) and leaves Redis alone for a few seconds before trying it again, so that a
hung server does not cost every request a socket timeout.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0


class RedisOutage:
    def __init__(self, what: str, retry_after: float = RETRY_AFTER_SECONDS) -> None:
        self._what = what
        self._retry_after = retry_after
        self._until = 0.0
        self._reported = False

    def ongoing(self) -> bool:
        return time.monotonic() < self._until

    def failed(self, error: Exception) -> None:
        self._until = time.monotonic() + self._retry_after
        if not self._reported:
            self._reported = True
            log.warning(
                "Redis unreachable (%s): %s counted on this node for now", error, self._what
            )

    def succeeded(self) -> None:
        if self._reported:
            self._reported = False
            log.warning("Redis reachable again: %s shared by every node", self._what)
