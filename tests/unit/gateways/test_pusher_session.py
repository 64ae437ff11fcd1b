"""The Pusher protocol's state on one node: subscriptions, presence, client events, limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from domain.pusher.apps import AppConfig, AppLimits
from domain.pusher.client_events import PusherClientEvent
from domain.pusher.trigger import PusherTrigger
from gateways.pusher import protocol
from gateways.pusher.cache import ChannelCache
from gateways.pusher.channels import ChannelRegistry
from gateways.pusher.connection import PusherConnection
from gateways.pusher.fanout import PusherFanout
from gateways.pusher.session import ClientEvent, PusherSession
from gateways.pusher.signatures import channel_message, is_authorised, sign, signin_message
from projections.records import LogRecord

APP = AppConfig("1", "key", "secret", "test", limits=AppLimits(max_presence_members=2))


def _socket(
    registry: ChannelRegistry,
    number: int,
    app: AppConfig = APP,
    sent: list[ClientEvent] | None = None,
) -> PusherSession:
    connection = PusherConnection(f"{number}.{number}", app, buffer_limit=1 << 20)
    registry.connect(connection)
    return PusherSession(connection, registry, (sent if sent is not None else []).append)


def _said(session: PusherSession) -> list[dict[str, Any]]:
    """What the socket was sent since last asked."""
    connection = session.connection
    if connection.ending is not None:
        return []
    frames = connection.take_frames()
    return [json.loads(frame) for frame in frames]


def _pending(session: PusherSession) -> bool:
    return bool(session.connection._outbox)


def _send(session: PusherSession, event: str, data: Any = None, channel: str | None = None) -> None:
    frame: dict[str, Any] = {"event": event, "data": data}
    if channel is not None:
        frame["channel"] = channel
    session.receive(json.dumps(frame))


def _join(session: PusherSession, channel: str, user: str | None = None) -> dict[str, Any]:
    socket_id = session.connection.socket_id
    data: dict[str, Any] = {"channel": channel}
    if user is not None:
        data["channel_data"] = json.dumps({"user_id": user, "user_info": {"n": user}})
    if channel.startswith(("private-", "presence-")):
        signed = channel_message(socket_id, channel, data.get("channel_data"))
        data["auth"] = f"key:{sign('secret', signed)}"
    _send(session, "pusher:subscribe", data)
    (answer,) = _said(session)
    return answer


def test_signatures_compare_key_and_hmac() -> None:
    message = channel_message("1.2", "private-a")
    good = f"key:{sign('secret', message)}"
    assert is_authorised(good, "key", "secret", message)
    assert not is_authorised(good, "other", "secret", message)
    assert not is_authorised(good, "key", "secret", channel_message("1.3", "private-a"))
    assert not is_authorised(None, "key", "secret", message)
    assert signin_message("1.2", "{}") == "1.2::user::{}"


def test_presence_members_are_users_not_sockets() -> None:
    registry = ChannelRegistry()
    first, second, other = (_socket(registry, n) for n in (1, 2, 3))
    for session in (first, second, other):
        _said(session)  # nothing yet
    joined = _join(first, "presence-room", "u1")
    assert json.loads(joined["data"])["presence"] == {
        "ids": ["u1"],
        "hash": {"u1": {"n": "u1"}},
        "count": 1,
    }
    _join(second, "presence-room", "u1")  # the same user's second socket: nobody is told
    assert _said(first) == []
    _join(other, "presence-room", "u2")
    added = [f for s in (first, second) for f in _said(s)]
    assert [f["event"] for f in added] == ["pusher_internal:member_added"] * 2
    assert registry.presence_user_ids("1", "presence-room") == ["u1", "u2"]
    assert registry.subscription_count("1", "presence-room") == 3
    registry.disconnect(first.connection)  # u1 still has a socket
    assert _said(other) == []
    registry.disconnect(second.connection)
    (removed,) = _said(other)
    assert removed["event"] == "pusher_internal:member_removed"
    assert json.loads(removed["data"]) == {"user_id": "u1"}
    state = registry.occupied_channels("1", "presence-")["presence-room"]
    assert (state.subscription_count, state.user_count) == (1, 1)


def test_a_full_presence_channel_refuses_new_users_only() -> None:
    registry = ChannelRegistry()
    sessions = [_socket(registry, n) for n in range(1, 5)]
    _join(sessions[0], "presence-full", "a")
    _join(sessions[1], "presence-full", "b")
    refused = _join(sessions[2], "presence-full", "c")
    assert refused["event"] == "pusher:error" and "full" in refused["data"]["message"]
    assert _join(sessions[3], "presence-full", "a")["event"].endswith("subscription_succeeded")


def test_client_events_are_sent_for_the_log_with_user_id_on_presence() -> None:
    registry = ChannelRegistry()
    sent: list[ClientEvent] = []
    sender, receiver = _socket(registry, 1, sent=sent), _socket(registry, 2)
    _join(sender, "presence-chat", "s")
    _join(sender, "private-chat")
    _join(receiver, "presence-chat", "r")
    _said(sender)  # member_added r
    _send(sender, "client-typing", {"x": 1}, "presence-chat")
    _send(sender, "client-typing", "plain", "private-chat")
    assert sent == [
        ClientEvent("presence-chat", "client-typing", {"x": 1}, "s"),
        ClientEvent("private-chat", "client-typing", "plain", None),
    ]
    # Nobody is told before the log has it (see the fan-out).
    assert _said(sender) == [] and _said(receiver) == []


def test_client_events_refused_with_4301() -> None:
    limited = AppConfig("2", "key", "secret", "t", limits=AppLimits(max_client_events_per_second=2))
    registry = ChannelRegistry()
    sender = _socket(registry, 1, limited)
    _join(sender, "private-a")
    _join(sender, "private-encrypted-a")
    _join(sender, "public-a")
    for channel in ("public-a", "private-encrypted-a", "private-b"):
        _send(sender, "client-x", {}, channel)
        (error,) = _said(sender)
        assert (
            error["event"] == "pusher:error"
            and error["data"]["code"] == protocol.CLIENT_EVENT_REJECTED
        )
    for _ in range(5):
        _send(sender, "client-x", {}, "private-a")
    errors = _said(sender)
    assert 3 <= len(errors) <= 5 and all(e["data"]["code"] == 4301 for e in errors)


def test_signin_and_the_users_own_channel() -> None:
    registry = ChannelRegistry()
    session, stranger = _socket(registry, 1), _socket(registry, 2)
    user_data = json.dumps({"id": "u7"})
    auth = f"key:{sign('secret', signin_message('1.1', user_data))}"
    _send(session, "pusher:signin", {"user_data": user_data, "auth": auth})
    (success,) = _said(session)
    assert success == {"event": "pusher:signin_success", "data": {"user_data": user_data}}
    assert _join(session, "#server-to-user-u7")["event"].endswith("subscription_succeeded")
    assert _join(stranger, "#server-to-user-u7")["event"] == "pusher:error"
    assert registry.user_connections("1", "u7") == [session.connection]
    _send(stranger, "pusher:signin", {"user_data": user_data, "auth": auth})  # not its socket id
    assert stranger.connection.ending is not None and stranger.connection.ending.code == 4009


def test_a_slow_socket_is_ended_without_blocking_the_publisher() -> None:
    registry = ChannelRegistry()
    slow = PusherConnection("1.1", APP, buffer_limit=10_000)
    fast = PusherConnection("2.2", APP, buffer_limit=1 << 30)
    for connection in (slow, fast):
        registry.connect(connection)
        registry.subscribe(connection, "news")
    frame = protocol.event("big", "x" * 1000, "news")
    for _ in range(50):
        registry.publish("1", "news", frame)
    assert slow.ending is not None and slow.ending.code == protocol.OVER_CAPACITY
    assert not slow.ending.drain
    assert fast.ending is None and len(fast.take_frames()) == 50


def test_malformed_frames_are_answered_not_raised() -> None:
    session = _socket(ChannelRegistry(), 1)
    for payload in (
        "",
        "x",
        "[]",
        '{"event": 1}',
        '{"event": "pusher:subscribe", "data": 3}',
        b"\xff",
    ):
        session.receive(payload)
        (error,) = _said(session)
        assert error["event"] == "pusher:error" and error["data"]["code"] is None


def test_the_fanout_tells_subscribers_but_the_sender() -> None:
    registry = ChannelRegistry()
    sender, other = _socket(registry, 1), _socket(registry, 2)
    for session in (sender, other):
        _join(session, "private-room")
    payload = {
        "app_id": "1",
        "channel": "private-room",
        "name": "client-x",
        "data": {"a": 1},
        "socket_id": "1.1",
        "user_id": "u",
    }
    event = object.__new__(PusherClientEvent.Sent)
    record = LogRecord(1, "id", 1, "PusherClientEvent.Sent", datetime.now(UTC), event, payload)
    PusherFanout(registry, _NoApps())([record])
    assert _said(sender) == []
    assert _said(other) == [
        {"event": "client-x", "channel": "private-room", "data": {"a": 1}, "user_id": "u"}
    ]


class _NoApps:
    def by_key(self, key: str) -> AppConfig | None:
        return None

    def by_id(self, app_id: str) -> AppConfig | None:
        return None


def test_values_nested_deeper_than_we_can_write_are_refused() -> None:
    # orjson reads 1,024 levels but writes 255: a client's deep value must be refused as it
    # arrives, not raise when it is measured or sent on.
    registry = ChannelRegistry()
    session = _socket(registry, 1)
    _join(session, "private-deep")
    deep = "[" * 300 + "]" * 300
    session.receive('{"event":"client-x","channel":"private-deep","data":' + deep + "}")
    (error,) = _said(session)
    assert error["event"] == "pusher:error" and "nested" in error["data"]["message"]
    channel_data = '{"user_id":"u","user_info":' + deep + "}"
    signed = channel_message("1.1", "presence-deep", channel_data)
    _send(
        session,
        "pusher:subscribe",
        {
            "channel": "presence-deep",
            "auth": f"key:{sign('secret', signed)}",
            "channel_data": channel_data,
        },
    )
    (error,) = _said(session)
    assert error["event"] == "pusher:error" and "nested" in error["data"]["message"]


def test_cache_channels_replay_the_last_event_or_say_miss() -> None:
    registry = ChannelRegistry()
    first, later = _socket(registry, 1), _socket(registry, 2)
    _send(first, "pusher:subscribe", {"channel": "cache-news"})
    succeeded, missed = _said(first)
    assert succeeded["event"] == "pusher_internal:subscription_succeeded"
    assert missed == {"event": "pusher:cache_miss", "channel": "cache-news", "data": "{}"}
    for n in (1, 2):
        payload = {
            "app_id": "1",
            "channels": ["cache-news"],
            "name": "story",
            "data": f"#{n}",
            "socket_id": None,
        }
        event = object.__new__(PusherTrigger.Triggered)
        record = LogRecord(n, "id", 1, "PusherTrigger.Triggered", datetime.now(UTC), event, payload)
        PusherFanout(registry, _NoApps())([record])
    assert [f["data"] for f in _said(first)] == ["#1", "#2"]
    _send(later, "pusher:subscribe", {"channel": "cache-news"})
    succeeded, replayed = _said(later)
    assert succeeded["event"] == "pusher_internal:subscription_succeeded"
    assert replayed == {"event": "story", "channel": "cache-news", "data": "#2"}
    cached = registry.cached_event("1", "cache-news")
    assert cached is not None and cached.data == "#2" and 3590 <= cached.ttl_seconds <= 3600


def test_the_cache_forgets_the_oldest_past_its_bound() -> None:
    cache = ChannelCache(max_bytes=100)
    cache.remember("1", "cache-a", "x" * 60, "a")
    cache.remember("1", "cache-b", "y" * 60, "b")
    assert cache.last_event("1", "cache-a") is None
    assert cache.last_event("1", "cache-b") is not None
