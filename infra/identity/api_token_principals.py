"""Who a valid API token stands for, kept so that a request needs no store read to tell.

Keyed by the token's hash. An entry is forgotten the moment this node commits a change to
the token (before the command is answered) and when the log feed shows a change made on
another node, so a revocation holds here at once and elsewhere as fast as the log travels.
An entry is also dropped after `max_age` seconds, which bounds how long a stalled feed
could keep a revoked token usable; expiry is checked on every use. Only valid tokens are
kept: an unknown or refused token is read from the store each time, as before.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from uuid import UUID

from infra.identity.reads_in_flight import ReadsInFlight
from infra.identity.session_credential import Authenticated
from projections.records import LogRecord

# The type prefix of an API token's events.
_API_TOKEN_EVENTS = "ApiToken."  # noqa: S105 - an event type, not a secret


@dataclass(frozen=True, slots=True)
class KnownToken:
    token_id: UUID
    authenticated: Authenticated
    # Unix time the token expires at, None if never.
    expires_at: float | None
    # time.monotonic() when it was read from the store.
    read_at: float


class TokenRead(NamedTuple):
    started_at: float
    changes_seen: int


class ApiTokenPrincipals:
    def __init__(self, max_entries: int = 10_000, max_age: float = 30.0) -> None:
        self._max_entries = max_entries
        self._max_age = max_age
        # Forgetting runs on the command bus's thread; lookups on the event loop.
        self._lock = threading.Lock()
        self._known: OrderedDict[str, KnownToken] = OrderedDict()
        # token id -> hash, to forget by the id a commit or the log names.
        self._hash_of: dict[str, str] = {}
        # Store reads in flight: one that may predate a change is used once but not kept.
        self._reads = ReadsInFlight()

    def known(self, token_hash: str) -> KnownToken | None:
        """The token, if it was valid when read and is neither stale nor expired now."""
        with self._lock:
            entry = self._known.get(token_hash)
            if entry is None:
                return None
            if time.monotonic() - entry.read_at >= self._max_age or (
                entry.expires_at is not None and time.time() >= entry.expires_at
            ):
                self._drop(token_hash)
                return None
            self._known.move_to_end(token_hash)
            return entry

    def reading(self, token_id: str) -> TokenRead:
        """Marks a store read of this token as begun (its `started_at` is the entry's `read_at`)."""
        with self._lock:
            return TokenRead(time.monotonic(), self._reads.begin(token_id))

    def done_reading(
        self, token_id: str, token_hash: str, entry: KnownToken | None, read: TokenRead
    ) -> None:
        """Ends a read begun with `reading`: keeps a valid token unless it changed meanwhile."""
        with self._lock:
            unchanged = self._reads.end(token_id, read.changes_seen)
            if entry is not None and unchanged:
                self._known[token_hash] = entry
                self._known.move_to_end(token_hash)
                self._hash_of[token_id] = token_hash
                while len(self._known) > self._max_entries:
                    _, evicted = self._known.popitem(last=False)
                    self._hash_of.pop(str(evicted.token_id), None)

    def forget(self, ids: Iterable[str]) -> None:
        """Forget these tokens (ids of other aggregates are ignored)."""
        with self._lock:
            for token_id in ids:
                token_hash = self._hash_of.get(token_id)
                if token_hash is not None:
                    self._drop(token_hash)
                self._reads.changed(token_id)

    def forget_changed(self, records: Sequence[LogRecord]) -> None:
        """A log feed listener: forget every token the records changed."""
        changed = [r.aggregate_id for r in records if r.type.startswith(_API_TOKEN_EVENTS)]
        if changed:
            self.forget(changed)

    def _drop(self, token_hash: str) -> None:
        entry = self._known.pop(token_hash, None)
        if entry is not None:
            self._hash_of.pop(str(entry.token_id), None)
