"""Cache channels on a node that did not see the last event: the store's view answers, once,
off the event loop; what it says counts Pusher's hour from when the event was written."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from domain.errors import ViewsBehind
from gateways.pusher.cache import TTL_SECONDS, ChannelCache
from gateways.pusher.channels import ChannelRegistry
from gateways.pusher.connection import PusherConnection
from gateways.pusher.session import PusherSession
from projections.pusher_cache_view import CachedChannelEvent
from tests.unit.gateways.test_pusher_session import APP

NOW = 1_750_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class Store:
    """The view as a node reads it: counts reads, and can hold them until released."""

    def __init__(self, *events: CachedChannelEvent) -> None:
        self.events = {(e.app_id, e.channel): e for e in events}
        self.reads: list[tuple[str, str]] = []
        self.threads: set[int] = set()
        self.release = threading.Event()
        self.release.set()
        self.behind = False

    def last_event(self, app_id: str, channel: str) -> CachedChannelEvent | None:
        self.threads.add(threading.get_ident())
        self.reads.append((app_id, channel))
        self.release.wait(5)
        found = self.events.get((app_id, channel))
        if found is None and self.behind:
            raise ViewsBehind("not yet")
        return found


def _stored(channel: str, written_at: float, user_id: str | None = None) -> CachedChannelEvent:
    return CachedChannelEvent("1", channel, "story", '{"n":1}', user_id, written_at, 7)


def _socket(registry: ChannelRegistry, number: int) -> PusherSession:
    connection = PusherConnection(f"{number}.{number}", APP, buffer_limit=1 << 20)
    registry.connect(connection)
    return PusherSession(connection, registry, [].append)


def _subscribe(session: PusherSession, channel: str) -> None:
    session.receive(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel}}))


def _said(session: PusherSession) -> list[dict[str, Any]]:
    return [json.loads(frame) for frame in session.connection.take_frames()]


async def _settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0.01)


def test_a_fresh_node_replays_the_stored_event_and_keeps_it() -> None:
    async def scenario() -> None:
        clock = Clock()
        store = Store(_stored("cache-news", NOW - 600), _stored("presence-cache-x", NOW, "ann"))
        registry = ChannelRegistry(ChannelCache(stored=store, clock=clock))
        first, second = _socket(registry, 1), _socket(registry, 2)
        _subscribe(first, "cache-news")
        # Answered at once; the replay follows once the store was read.
        assert [f["event"] for f in _said(first)] == ["pusher_internal:subscription_succeeded"]
        await _settle()
        assert _said(first) == [{"event": "story", "channel": "cache-news", "data": '{"n":1}'}]
        assert threading.get_ident() not in store.threads
        # Kept: the next subscriber is answered from memory, without reading again.
        _subscribe(second, "cache-news")
        assert [f["event"] for f in _said(second)] == [
            "pusher_internal:subscription_succeeded",
            "story",
        ]
        assert store.reads == [("1", "cache-news")]
        cached = await registry.cache.look_up("1", "cache-news")
        # The hour counts from when the event was written, not from when it was read.
        assert cached is not None and cached.ttl_seconds == TTL_SECONDS - 600
        # A client event's presence user goes with it.
        presence = await registry.cache.look_up("1", "presence-cache-x")
        assert presence is not None
        assert json.loads(presence.frame)["user_id"] == "ann"

    asyncio.run(scenario())


def test_an_event_older_than_the_ttl_is_a_miss_and_the_miss_is_kept() -> None:
    async def scenario() -> None:
        store = Store(_stored("cache-old", NOW - TTL_SECONDS - 1))
        registry = ChannelRegistry(ChannelCache(stored=store, clock=Clock()))
        first, second = _socket(registry, 1), _socket(registry, 2)
        _subscribe(first, "cache-old")
        await _settle()
        assert [f["event"] for f in _said(first)] == [
            "pusher_internal:subscription_succeeded",
            "pusher:cache_miss",
        ]
        _subscribe(second, "cache-old")
        assert _said(second)[-1] == {
            "event": "pusher:cache_miss",
            "channel": "cache-old",
            "data": "{}",
        }
        assert store.reads == [("1", "cache-old")]
        assert await registry.cache.look_up("1", "cache-old") is None

    asyncio.run(scenario())


def test_memory_expires_on_the_clock_and_the_store_is_asked_again() -> None:
    async def scenario() -> None:
        clock = Clock()
        store = Store()
        cache = ChannelCache(stored=store, clock=clock)
        cache.remember("1", "cache-a", '{"event":"e"}', "e")
        assert (await cache.look_up("1", "cache-a")) is not None
        clock.now += TTL_SECONDS
        assert cache.last_event("1", "cache-a") is None
        assert await cache.look_up("1", "cache-a") is None
        assert store.reads == [("1", "cache-a")]
        # The feed's next event replaces the kept miss.
        cache.remember("1", "cache-a", '{"event":"f"}', "f")
        found = await cache.look_up("1", "cache-a")
        assert found is not None and found.data == "f"

    asyncio.run(scenario())


def test_subscribers_waiting_on_one_read_share_it_and_a_live_event_is_not_sent_twice() -> None:
    async def scenario() -> None:
        store = Store(_stored("cache-busy", NOW - 5))
        store.release.clear()
        registry = ChannelRegistry(ChannelCache(stored=store, clock=Clock()))
        sessions = [_socket(registry, n) for n in (1, 2, 3)]
        for session in sessions:
            _subscribe(session, "cache-busy")
            _said(session)
        # The third leaves (and subscribes again) while the store is read.
        _subscribe(sessions[2], "cache-busy")
        sessions[2].receive(
            json.dumps({"event": "pusher:unsubscribe", "data": {"channel": "cache-busy"}})
        )
        _said(sessions[2])
        await asyncio.sleep(0.05)
        # The feed brings a newer event meanwhile: the subscribers get it live.
        registry.cache.remember("1", "cache-busy", '{"event":"live"}', "live")
        registry.publish("1", "cache-busy", '{"event":"live"}')
        store.release.set()
        await _settle()
        assert store.reads == [("1", "cache-busy")]
        for session in sessions[:2]:
            assert _said(session) == [{"event": "live"}]
        assert _said(sessions[2]) == []
        cached = registry.cache.last_event("1", "cache-busy")
        assert cached is not None and cached.data == "live"

    asyncio.run(scenario())


def test_one_socket_asking_twice_during_a_read_is_answered_once() -> None:
    async def scenario() -> None:
        store = Store(_stored("cache-twice", NOW))
        store.release.clear()
        registry = ChannelRegistry(ChannelCache(stored=store, clock=Clock()))
        session = _socket(registry, 1)
        _subscribe(session, "cache-twice")
        _subscribe(session, "cache-twice")
        assert [f["event"] for f in _said(session)] == [
            "pusher_internal:subscription_succeeded"
        ] * 2
        store.release.set()
        await _settle()
        assert [f["event"] for f in _said(session)] == ["story"]

    asyncio.run(scenario())


def test_a_view_still_catching_up_gives_a_miss_that_is_not_kept() -> None:
    async def scenario() -> None:
        store = Store()
        store.behind = True
        registry = ChannelRegistry(ChannelCache(stored=store, clock=Clock()))
        session = _socket(registry, 1)
        _subscribe(session, "cache-late")
        await _settle()
        assert _said(session)[-1]["event"] == "pusher:cache_miss"
        store.behind = False
        store.events[("1", "cache-late")] = _stored("cache-late", NOW)
        found = await registry.cache.look_up("1", "cache-late")
        assert found is not None and found.data == '{"n":1}'
        assert len(store.reads) == 2

    asyncio.run(scenario())


def test_without_a_store_memory_answers_at_once_within_its_byte_bound() -> None:
    registry = ChannelRegistry(ChannelCache(max_bytes=100))
    session = _socket(registry, 1)
    _subscribe(session, "cache-none")
    assert [f["event"] for f in _said(session)] == [
        "pusher_internal:subscription_succeeded",
        "pusher:cache_miss",
    ]
    registry.cache.remember("1", "cache-a", "x" * 60, "a")
    registry.cache.remember("1", "cache-b", "y" * 60, "b")
    assert registry.cache.last_event("1", "cache-a") is None
    assert registry.cache.last_event("1", "cache-b") is not None
