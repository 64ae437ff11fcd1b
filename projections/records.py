"""What projections and gateways read from the log: one stored event at one position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Log positions are BIGINT in both stores: a position beyond this names no event.
MAX_POSITION = 2**63 - 1


@dataclass(frozen=True)
class LogRecord:
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
