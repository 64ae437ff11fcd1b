"""Rows shaped like the store's: a DeviceAccess.PublicKeySet event as eventsourcing records it.

The columns are those of eventsourcing's stored_events table (originator id, version, topic,
state); the state is the JSON our transcoder writes for that event (~340 bytes), with a
different device in each row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

TOPIC = "domain.deviceauth.device_access:DeviceAccess.PublicKeySet"
_META = {
    "actor_id": "bench",
    "actor_kind": "bench",
    "credential_id": None,
    "source_address": None,
    "correlation_id": None,
    "causation_id": None,
}


@dataclass(frozen=True)
class StoredEventRow:
    originator_id: uuid.UUID
    originator_version: int
    topic: str
    state: bytes


def event_state(device_identifier: str) -> bytes:
    return orjson.dumps(
        {
            "timestamp": {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()},
            "device_identifier": device_identifier,
            "public_key": f"key-of-{device_identifier}",
            "key_type": None,
            "key_problem": "neither PEM nor base64 of a PEM or DER public key",
            "meta": _META,
        }
    )


def stored_event_rows(count: int) -> list[StoredEventRow]:
    """`count` rows, each the first event of a new aggregate (version 1), as the store gets them."""
    prefix = uuid.uuid4().hex[:8].upper()
    return [
        StoredEventRow(uuid.uuid4(), 1, TOPIC, event_state(f"A{prefix}{n:08d}"))
        for n in range(count)
    ]
