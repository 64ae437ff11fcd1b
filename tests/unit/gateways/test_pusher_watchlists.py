"""Watchlists and subscription counts on one node, in pusher-js's wire shapes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from domain.pusher.apps import AppConfig, AppLimits
from gateways.pusher import channels as channel_module
from gateways.pusher.channels import ChannelRegistry
from gateways.pusher.peers import NoPeers
from gateways.pusher.session import PusherSession
from gateways.pusher.signatures import sign, signin_message
from tests.unit.gateways.test_pusher_session import _join, _said, _send, _socket

COUNTED = AppConfig(
    "2", "key", "secret", "counted", limits=AppLimits(subscription_count_events=True)
)


def _sign_in(session: PusherSession, user: str, watchlist: Any = None) -> list[dict[str, Any]]:
    data: dict[str, Any] = {"id": user}
    if watchlist is not None:
        data["watchlist"] = watchlist
    user_data = json.dumps(data)
    auth = f"key:{sign('secret', signin_message(session.connection.socket_id, user_data))}"
    _send(session, "pusher:signin", {"user_data": user_data, "auth": auth})
    said = _said(session)
    assert said[0]["event"] == "pusher:signin_success"
    return said[1:]


def _watchlist_events(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        event
        for frame in frames
        if frame["event"] == "pusher_internal:watchlist_events"
        for event in frame["data"]["events"]
    ]


def test_a_watcher_hears_first_and_last_sockets_only() -> None:
    registry = ChannelRegistry()
    carol = _socket(registry, 1)
    _sign_in(_socket(registry, 2), "bob")
    initial = _watchlist_events(_sign_in(carol, "carol", ["alice", "bob"]))
    assert initial == [
        {"name": "online", "user_ids": ["bob"]},
        {"name": "offline", "user_ids": ["alice"]},
    ]
    alice_phone = _socket(registry, 3)
    _sign_in(alice_phone, "alice")
    assert _watchlist_events(_said(carol)) == [{"name": "online", "user_ids": ["alice"]}]
    alice_laptop = _socket(registry, 4)
    _sign_in(alice_laptop, "alice")
    assert _said(carol) == []  # a second socket: alice was online already
    registry.disconnect(alice_phone.connection)
    assert _said(carol) == []
    registry.disconnect(alice_laptop.connection)
    assert _watchlist_events(_said(carol)) == [{"name": "offline", "user_ids": ["alice"]}]
    # A watcher that left is told nothing more, and holds nothing.
    registry.disconnect(carol.connection)
    _sign_in(_socket(registry, 5), "alice")
    assert registry.watchlists._watchers == {} and registry.watchlists._watching == {}


def test_signing_in_again_as_the_same_user_changes_nothing_for_watchers() -> None:
    registry = ChannelRegistry()
    carol = _socket(registry, 1)
    _sign_in(carol, "carol", ["dave"])
    dave = _socket(registry, 2)
    _sign_in(dave, "dave")
    assert _watchlist_events(_said(carol)) == [{"name": "online", "user_ids": ["dave"]}]
    _sign_in(dave, "dave")
    assert _said(carol) == []
    _sign_in(dave, "erin")  # the socket is someone else now
    assert _watchlist_events(_said(carol)) == [{"name": "offline", "user_ids": ["dave"]}]


def test_a_bad_watchlist_is_refused_and_the_sign_in_stands() -> None:
    registry = ChannelRegistry()
    for watchlist, why in (
        ("alice", "must be a list"),
        ([1], "not a string"),
        (["a b"], "may only contain"),
        ([f"u{n}" for n in range(101)], "at most 100"),
    ):
        session = _socket(registry, 1)
        (error,) = _sign_in(session, "carol", watchlist)
        assert error["event"] == "pusher:error" and error["data"]["code"] == 4302
        assert why in error["data"]["message"]
        assert session.connection.ending is None and session.connection.user_id == "carol"
        registry.disconnect(session.connection)
    assert registry.watchlists._watching == {}


def _counts(frames: list[dict[str, Any]]) -> list[int]:
    return [
        json.loads(f["data"])["subscription_count"]
        for f in frames
        if f["event"] == "pusher_internal:subscription_count"
    ]


def test_subscription_count_when_the_app_asks_for_it() -> None:
    registry = ChannelRegistry()
    first, second = _socket(registry, 1, COUNTED), _socket(registry, 2, COUNTED)
    _send(first, "pusher:subscribe", {"channel": "news"})
    succeeded, count = _said(first)
    assert succeeded["event"] == "pusher_internal:subscription_succeeded"
    assert count == {
        "event": "pusher_internal:subscription_count",
        "channel": "news",
        "data": json.dumps({"subscription_count": 1}, separators=(",", ":")),
    }
    _send(second, "pusher:subscribe", {"channel": "news"})
    assert _counts(_said(first)) == [2]
    assert _counts(_said(second)) == [2]
    _send(second, "pusher:subscribe", {"channel": "news"})  # a repeat changes no count
    assert _counts(_said(second)) == [] and _said(first) == []
    _send(second, "pusher:unsubscribe", {"channel": "news"})
    assert _counts(_said(first)) == [1]
    # Never on presence channels, and never for apps that did not ask.
    assert _join(first, "presence-room", "u1")["event"].endswith("subscription_succeeded")
    plain = _socket(registry, 3)
    assert _join(plain, "news")["event"].endswith("subscription_succeeded")


def test_big_channels_hear_their_count_at_most_every_interval(monkeypatch: Any) -> None:
    monkeypatch.setattr(channel_module, "SMALL_CHANNEL", 2)
    monkeypatch.setattr(channel_module, "COUNT_INTERVAL_SECONDS", 0.2)

    async def scenario() -> list[int]:
        registry = ChannelRegistry()
        sockets = [_socket(registry, n, COUNTED) for n in range(1, 7)]
        watcher = sockets[0].connection
        for session in sockets:
            _send(session, "pusher:subscribe", {"channel": "big"})
        await asyncio.sleep(0.3)
        return [_count(f) for f in watcher._outbox if "subscription_count" in f]

    # 1 and 2 at once (a small channel), then 3 to 6 in one event after the interval.
    assert asyncio.run(scenario()) == [1, 2, 6]


def _count(frame: str) -> int:
    value: int = json.loads(json.loads(frame)["data"])["subscription_count"]
    return value


class OtherNodes(NoPeers):
    """What the other nodes hold, as their reports in the feed would have said."""

    def __init__(self) -> None:
        self.subscriptions = 0
        self.online: set[str] = set()

    def remote_subscriptions(self, app_id: str, channel: str) -> int:
        return self.subscriptions

    def online_elsewhere(self, app_id: str, user_id: str) -> bool:
        return user_id in self.online


def test_counts_and_watchlists_include_the_other_nodes() -> None:
    registry = ChannelRegistry()
    others = registry.peers = OtherNodes()
    others.subscriptions = 3
    first = _socket(registry, 1, COUNTED)
    _send(first, "pusher:subscribe", {"channel": "news"})
    assert _counts(_said(first)) == [4]
    others.subscriptions = 1
    registry.remote_count_changed(COUNTED.app_id, "news")
    assert _counts(_said(first)) == [2]

    carol = _socket(registry, 2)
    _sign_in(carol, "carol", ["alice"])
    alice = _socket(registry, 3)
    _sign_in(alice, "alice")
    assert _watchlist_events(_said(carol)) == [{"name": "online", "user_ids": ["alice"]}]
    others.online.add("alice")  # alice is signed in on another node too
    registry.disconnect(alice.connection)
    assert _said(carol) == []
