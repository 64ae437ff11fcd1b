"""Whether an access token's grant is revoked, without reading the store on every request.

A grant's state is read from the store once and kept. It is forgotten the moment this
node commits a change to the grant, and when the log feed shows a change made on another
node, so a revocation holds here at once and elsewhere as fast as the log travels. A
"still valid" answer is also dropped after `max_age` seconds, which bounds how long a
stalled feed could keep a revoked grant usable. Revocation is final, so a revoked grant
is remembered for good (until evicted).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from infra.identity.reads_in_flight import ReadsInFlight
from projections.records import LogRecord

_GRANT_EVENT_PREFIX = "TokenGrant."


class GrantStatus:
    def __init__(
        self,
        is_revoked_in_store: Callable[[str], bool],
        max_entries: int = 100_000,
        max_age: float = 30.0,
    ) -> None:
        self._is_revoked_in_store = is_revoked_in_store
        self._max_entries = max_entries
        self._max_age = max_age
        self._lock = threading.Lock()
        # grant id -> (revoked, when read)
        self._known: OrderedDict[str, tuple[bool, float]] = OrderedDict()
        # Store reads in flight: one that may predate a change is used once but not kept.
        self._reads = ReadsInFlight()

    def is_revoked(self, grant_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            known = self._known.get(grant_id)
            if known is not None and (known[0] or now - known[1] < self._max_age):
                self._known.move_to_end(grant_id)
                return known[0]
            began = self._reads.begin(grant_id)
        try:
            revoked = self._is_revoked_in_store(grant_id)
        except BaseException:
            with self._lock:
                self._reads.end(grant_id, began)
            raise
        with self._lock:
            if self._reads.end(grant_id, began):
                self._known[grant_id] = (revoked, now)
                self._known.move_to_end(grant_id)
                while len(self._known) > self._max_entries:
                    self._known.popitem(last=False)
        return revoked

    def known(self, grant_id: str) -> bool | None:
        """Whether the grant is revoked, if that is known without reading the store (cheap
        enough for the event loop); None when only `is_revoked` can tell."""
        with self._lock:
            known = self._known.get(grant_id)
            if known is None or not (known[0] or time.monotonic() - known[1] < self._max_age):
                return None
            self._known.move_to_end(grant_id)
            return known[0]

    def forget(self, ids: Iterable[str]) -> None:
        """Forget these grants (ids of other aggregates are ignored)."""
        with self._lock:
            for grant_id in ids:
                self._known.pop(grant_id, None)
                self._reads.changed(grant_id)

    def forget_changed(self, records: Sequence[LogRecord]) -> None:
        """A log feed listener: forget every grant the records changed."""
        changed = [r.aggregate_id for r in records if r.type.startswith(_GRANT_EVENT_PREFIX)]
        if changed:
            self.forget(changed)
