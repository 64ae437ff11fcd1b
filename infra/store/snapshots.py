"""Snapshots of long-lived aggregates: a cold load reads one snapshot and at most `interval` events.

A thermostat, a device's access record or a user gathers events for years; without
snapshots the first command after a restart would replay all of them. Snapshots are
taken after the events are committed and are only an optimisation: one that cannot be
written is logged, never reported as the command's failure. A snapshot is kept only if it
decodes back to exactly the aggregate it was taken from (same values, same types), so a
state the transcoder cannot carry faithfully is read from the events instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from eventsourcing.domain import Aggregate

from infra.store.event_store import HublineApplication
from projections.records import LogRecord

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 200


class Snapshotter:
    def __init__(self, app: HublineApplication, interval: int = DEFAULT_INTERVAL) -> None:
        self._app = app
        self._interval = interval
        self._unfaithful: set[type[Aggregate]] = set()

    def after_save(self, aggregates: Sequence[Aggregate], saved: Sequence[LogRecord]) -> None:
        """Snapshot each aggregate whose saved events passed a multiple of the interval."""
        if self._app.snapshots is None or self._interval <= 0:
            return
        due = {r.aggregate_id for r in saved if r.version % self._interval == 0}
        if not due:
            return
        for aggregate in aggregates:
            if str(aggregate.id) in due and type(aggregate) not in self._unfaithful:
                try:
                    self._take(aggregate)
                except Exception:
                    log.exception(
                        "could not snapshot %s %s", type(aggregate).__name__, aggregate.id
                    )

    def _take(self, aggregate: Aggregate) -> None:
        snapshot_class: Any = getattr(type(aggregate), "Snapshot", self._app.snapshot_class)
        snapshot = snapshot_class.take(aggregate)
        mapper = self._app.mapper
        restored: Any = mapper.to_domain_event(mapper.to_stored_event(snapshot))
        if not _same(_state(restored.mutate(None)), _state(aggregate)):
            self._unfaithful.add(type(aggregate))
            log.warning(
                "%s does not survive a snapshot round trip; it is loaded from its events",
                type(aggregate).__name__,
            )
            return
        assert self._app.snapshots is not None
        self._app.snapshots.put([snapshot])


def _state(aggregate: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (an IntEnum read back as int is not)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
