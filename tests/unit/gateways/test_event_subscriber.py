"""An /api/v1/ws session's queue: what it may see, in order, bounded, and what wakes it."""

from __future__ import annotations

import asyncio

from domain.principals.permissions import Principal
from gateways.events.fanout import QUEUE_LIMIT, Outgoing, Subscriber

READER = Principal("reader", "api_token", frozenset({"deviceAuth:read"}))


def item(position: int, permission: str = "deviceAuth:read") -> Outgoing:
    return Outgoing(position, permission, f'{{"position":{position}}}')


def test_only_what_the_principal_may_read_is_queued_in_order() -> None:
    subscriber = Subscriber(READER)
    subscriber.offer([item(1), item(2, "audit:read"), item(3)])
    assert [i.position for i in subscriber.pending] == [1, 3]
    assert not subscriber.overflowed


def test_a_subscriber_past_its_limit_is_marked_overflowed() -> None:
    subscriber = Subscriber(READER)
    subscriber.offer([item(n) for n in range(QUEUE_LIMIT + 5)])
    assert len(subscriber.pending) == QUEUE_LIMIT
    assert subscriber.overflowed


def test_waiting_returns_once_something_is_offered_or_it_is_woken() -> None:
    async def scenario() -> None:
        subscriber = Subscriber(READER)
        waiting = asyncio.create_task(subscriber.wait())
        await asyncio.sleep(0.01)
        subscriber.offer([item(1, "audit:read")])  # nothing it may read: keeps sleeping
        await asyncio.sleep(0.01)
        assert not waiting.done()
        subscriber.offer([item(2)])
        await asyncio.wait_for(waiting, 1)

        woken = asyncio.create_task(subscriber.wait())  # returns at once: item 2 is pending
        await asyncio.wait_for(woken, 1)
        subscriber.pending.clear()
        woken = asyncio.create_task(subscriber.wait())
        await asyncio.sleep(0.01)
        assert not woken.done()
        subscriber.wake()  # the session ends, or the client's side closed
        await asyncio.wait_for(woken, 1)

    asyncio.run(scenario())
