"""The last event of each Pusher cache channel, as the log holds it, for nodes that did not
see it on their feed (started after it, or restarted).

A node keeps the last events it saw in memory (gateways/pusher/cache.py); this view is
what it asks when its memory has nothing for a channel. A row holds what rebuilds the
frame (event name, data, the presence user of a client event) and the time the event was
written, so that Pusher's hour counts from the write, not from when a node read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from domain.pusher.client_events import PusherClientEvent
from domain.pusher.trigger import PusherTrigger
from projections.records import LogRecord
from projections.view_store import ViewTransaction

CACHE_PREFIXES = ("cache-", "private-cache-", "private-encrypted-cache-", "presence-cache-")
# How long Pusher replays a cache channel's last event.
CACHE_TTL_SECONDS = 3600.0
# Rows older than the TTL are deleted at most this often (in log time): they are never
# answered, only kept from piling up.
_PRUNE_EVERY_SECONDS = 60.0

_TABLE = "view_pusher_cache"
_COLUMNS = "app_id, channel, position, name, data, user_id, written_at"
# A row moves only forward in the log: with several partitions a worker may apply an
# older trigger after a newer one of another aggregate.
_UPSERT = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (app_id, channel) DO UPDATE SET position = excluded.position,"
    " name = excluded.name, data = excluded.data, user_id = excluded.user_id,"
    " written_at = excluded.written_at"
    f" WHERE {_TABLE}.position < excluded.position"
)
_TRIGGERED = PusherTrigger.Triggered.__qualname__
_CLIENT_EVENT = PusherClientEvent.Sent.__qualname__


def is_cache_channel(channel: str) -> bool:
    return channel.startswith(CACHE_PREFIXES)


@dataclass(frozen=True)
class CachedChannelEvent:
    app_id: str
    channel: str
    name: str
    # A trigger's data is a string; a client event's the JSON value its client sent.
    data: Any
    # The sender's presence user, for a client event on a presence-cache- channel.
    user_id: str | None
    # When the event was written to the log (seconds since the epoch).
    written_at: float
    position: int


class PusherCacheView:
    name = "pusher_cache"
    version = 1

    def __init__(self) -> None:
        # Log time of the last prune; kept in memory only (pruning again is harmless).
        self._pruned_at = 0.0

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " app_id TEXT NOT NULL, channel TEXT NOT NULL, position BIGINT NOT NULL,"
            " name TEXT NOT NULL, data TEXT NOT NULL, user_id TEXT,"
            " written_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (app_id, channel))",
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_written_at ON {_TABLE} (written_at)",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {_TABLE}"]

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        self.apply_batch([record], tx)

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        # Only a batch's last event per channel matters: one upsert per channel.
        last: dict[tuple[str, str], tuple[Any, ...]] = {}
        newest = 0.0
        for record in records:
            kind = record.type
            if kind == _TRIGGERED:
                channels = record.payload["channels"]
                user_id = None
            elif kind == _CLIENT_EVENT:
                channels = (record.payload["channel"],)
                user_id = record.payload.get("user_id")
            else:
                continue
            payload = record.payload
            written_at = record.timestamp.timestamp()
            data: str | None = None
            for channel in channels:
                if not channel.startswith(CACHE_PREFIXES):
                    continue
                if data is None:
                    data = orjson.dumps(payload["data"]).decode()
                last[(payload["app_id"], channel)] = (
                    payload["app_id"],
                    channel,
                    record.position,
                    payload["name"],
                    data,
                    user_id,
                    written_at,
                )
                newest = max(newest, written_at)
        if not last:
            return
        tx.executemany(_UPSERT, list(last.values()))
        if newest - self._pruned_at >= _PRUNE_EVERY_SECONDS:
            self._pruned_at = newest
            tx.execute(f"DELETE FROM {_TABLE} WHERE written_at < ?", (newest - CACHE_TTL_SECONDS,))


def last_cache_event(tx: ViewTransaction, app_id: str, channel: str) -> CachedChannelEvent | None:
    """The channel's last event in the log, however old (the reader applies the TTL)."""
    rows = tx.fetchall(
        f"SELECT {_COLUMNS} FROM {_TABLE} WHERE app_id = ? AND channel = ?", (app_id, channel)
    )
    if not rows:
        return None
    r = rows[0]
    return CachedChannelEvent(
        app_id=str(r[0]),
        channel=str(r[1]),
        position=int(r[2]),
        name=str(r[3]),
        data=orjson.loads(r[4]),
        user_id=None if r[5] is None else str(r[5]),
        written_at=float(r[6]),
    )
