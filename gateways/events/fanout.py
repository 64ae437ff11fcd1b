"""Turns each log record into notifications once and offers them to every subscriber."""

from __future__ import annotations

import asyncio
from collections import deque
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
    """One connection's bounded queue; a client that falls too far behind is told to resume.

    Its session sleeps on one future that whatever it must act on resolves (an item, an
    overflow, the session ending, the client's side closing), so a delivery costs no
    task of its own.
    """

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.pending: deque[Outgoing] = deque()
        self.overflowed = False
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, batch: Sequence[Outgoing]) -> None:
        added = False
        for item in batch:
            if not self.principal.may(item.required_permission):
                continue
            if len(self.pending) >= QUEUE_LIMIT:
                self.overflowed = True
                break
            self.pending.append(item)
            added = True
        if added or self.overflowed:
            self.wake()

    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Until there is something to send or to act on (or `wake` was called)."""
        if self.pending or self.overflowed:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


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
