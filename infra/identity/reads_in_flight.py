"""Store reads under way per key, and whether each began before a change of its key.

A cache filled from store reads must not keep an answer read before a change it was told
of (the change may be a revocation). Each read is judged on its own, by the number of
changes of its key seen when it began: under load the reads of one popular key overlap
without end, and a flag cleared only once no read of the key is in flight would stop the
cache from ever being filled again (measured: every request of a REST benchmark then read
its API token from the store, a third of the throughput).

Not locked: its owner's lock guards it.
"""

from __future__ import annotations


class ReadsInFlight:
    def __init__(self) -> None:
        self._in_flight: dict[str, int] = {}
        # Changes seen per key while reads of it were in flight; dropped with the last read.
        self._changes: dict[str, int] = {}

    def begin(self, key: str) -> int:
        """A read of `key` begins; returns what `end` needs to judge it."""
        self._in_flight[key] = self._in_flight.get(key, 0) + 1
        return self._changes.get(key, 0)

    def changed(self, key: str) -> None:
        """`key` changed: the reads under way may hold its state from before."""
        if key in self._in_flight:
            self._changes[key] = self._changes.get(key, 0) + 1

    def end(self, key: str, began: int) -> bool:
        """A read of `key` ends; True if its key did not change since it began."""
        unchanged = self._changes.get(key, 0) == began
        left = self._in_flight[key] - 1
        if left:
            self._in_flight[key] = left
        else:
            del self._in_flight[key]
            self._changes.pop(key, None)
        return unchanged
