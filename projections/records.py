"""What projections and gateways read from the log: one stored event at one position."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

# Log positions are BIGINT in both stores: a position beyond this names no event.
MAX_POSITION = 2**63 - 1


class LogRecord(NamedTuple):
    """Immutable like the frozen dataclass it was, but a rebuild makes one per event and a
    tuple is made four times faster."""

    position: int
    aggregate_id: str
    version: int
    # Short event type, e.g. "DeviceAccess.PublicKeySet".
    type: str
    timestamp: datetime
    # The domain event object, for projections that know its class.
    event: Any
    # The event's own fields as JSON-ready values (metadata under "meta").
    payload: dict[str, Any]
    # Kafka partition the record came through; 0 for the embedded log.
    partition: int = 0

    @property
    def meta(self) -> dict[str, Any]:
        meta = self.payload.get("meta")
        return meta if isinstance(meta, dict) else {}
