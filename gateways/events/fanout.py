"""Turns each log record into notifications once and offers them to every subscriber."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

from domain.principals.permissions import Principal
from infra.log.feed import LogFeed
from projections.notifications import Notification, notifications_for
from projections.records import LogRecord

QUEUE_LIMIT = 10_000


@dataclass(frozen=True)
class Outgoing:
    position: int
    required_permission: str
    # Encoded once, sent to every subscriber as is.
    text: str


def encode(notifications: Iterable[Notification]) -> list[Outgoing]:
    return [
        Outgoing(n.position, n.required_permission, orjson.dumps(n.payload).decode())
        for n in notifications
    ]


def outgoing_for(records: Sequence[LogRecord]) -> list[Outgoing]:
    return encode(n for record in records for n in notifications_for(record))


class Subscriber:
    """One connection's bounded queue; a client that falls too far behind is told to resume."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.queue: asyncio.Queue[Outgoing] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.overflowed = asyncio.Event()

    def offer(self, batch: Sequence[Outgoing]) -> None:
        for item in batch:
            if not self.principal.may(item.required_permission):
                continue
            try:
                self.queue.put_nowait(item)
            except asyncio.QueueFull:
                self.overflowed.set()
                return


class NotificationFanout:
    def __init__(self, feed: LogFeed) -> None:
        self._subscribers: set[Subscriber] = set()
        feed.add_listener(self._publish)

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def _publish(self, records: Sequence[LogRecord]) -> None:
        if not self._subscribers:
            return
        batch = outgoing_for(records)
        if batch:
            for subscriber in list(self._subscribers):
                subscriber.offer(batch)
