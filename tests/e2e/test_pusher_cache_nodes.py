"""Cache channels on a node that was not running when their last event was triggered: a
restarted node (embedded) or a second serve node (distributed) replays it from the log to a
Pysher subscriber and shows it in info=cache, as Pusher does, instead of `cache_miss`.

Expiry after Pusher's hour is tested with a clock in tests/unit/gateways/test_pusher_cache.py.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from typing import Any

import pusher
import pysher

from tests.e2e.conftest import Stack
from tests.e2e.pusher_apps import PusherApp, create_app, wait_until_served
from tests.e2e.server import Server


class _Subscriber:
    """A Pysher client (protocol 6) and every channel event it received, in order."""

    def __init__(self, node: Server, app: PusherApp) -> None:
        self.events: queue.Queue[tuple[str, str, Any]] = queue.Queue()
        self.client = pysher.Pusher(
            app.key, secure=False, custom_host="127.0.0.1", port=node.port, reconnect_interval=60
        )
        dispatch = self.client.connection.event_handler

        def record(event: str, data: Any, channel: str) -> None:
            self.events.put((channel, event, data))
            dispatch(event, data, channel)

        self.client.connection.event_handler = record
        connected = threading.Event()
        self.client.connection.bind("pusher:connection_established", lambda _: connected.set())
        self.client.connect()
        assert connected.wait(10), "Pysher did not connect"

    def received(self, channel: str, count: int) -> list[tuple[str, Any]]:
        """The first `count` events on `channel` (subscription_succeeded first)."""
        got: list[tuple[str, Any]] = []
        deadline = time.monotonic() + 20
        while len(got) < count:
            on, event, data = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if on == channel:
                got.append((event, data))
        return got

    def disconnect(self) -> None:
        self.client.disconnect(timeout=1)


def _backend(node: Server, app: PusherApp) -> pusher.Pusher:
    return pusher.Pusher(
        app_id=app.app_id, key=app.key, secret=app.secret, ssl=False, host="127.0.0.1",
        port=node.port,
    )  # fmt: skip


def _node_after_the_events(stack: Stack, app: PusherApp) -> Server:
    if stack.kind == "embedded":
        stack.server.stop()
        stack.server.start()
        return stack.server
    node = stack.add_server()
    wait_until_served(node, app)
    return node


def test_a_node_started_after_the_last_event_replays_it(stack: Stack) -> None:
    app = create_app(stack)
    suffix = uuid.uuid4().hex[:8]
    subscribed, asked, empty = (
        f"{prefix}-{suffix}" for prefix in ("cache-sub", "cache-info", "cache-empty")
    )
    backend = app.backend(stack)
    backend.trigger(subscribed, "old-story", {"n": 0})
    backend.trigger([subscribed, asked], "story", {"n": 1})
    sent_at = time.time()

    node = _node_after_the_events(stack, app)
    subscriber = _Subscriber(node, app)
    try:
        subscriber.client.subscribe(subscribed)
        assert subscriber.received(subscribed, 2) == [
            ("pusher_internal:subscription_succeeded", "{}"),
            ("story", '{"n": 1}'),
        ]
        subscriber.client.subscribe(empty)
        assert [e for e, _ in subscriber.received(empty, 2)] == [
            "pusher_internal:subscription_succeeded",
            "pusher:cache_miss",
        ]
        # The HTTP API reads the log's view too, for a channel nobody subscribed to here.
        info = _backend(node, app).channel_info(asked, ["cache"])
        assert info["cache"]["data"] == '{"n": 1}'
        # The hour counts from the trigger, not from this node's start.
        elapsed = time.time() - sent_at
        assert 3600 - elapsed - 2 <= info["cache"]["ttl"] <= 3600
        # A later event reaches the subscriber live, and replaces the replayed one.
        _backend(node, app).trigger(subscribed, "story", {"n": 2})
        assert subscriber.received(subscribed, 1) == [("story", '{"n": 2}')]
        later = _backend(node, app).channel_info(subscribed, ["cache"])
        assert later["cache"]["data"] == '{"n": 2}'
    finally:
        subscriber.disconnect()
    # What the node read from the log it keeps: another subscriber is answered the same.
    second = _Subscriber(node, app)
    try:
        second.client.subscribe(asked)
        assert second.received(asked, 2)[1] == ("story", '{"n": 1}')
    finally:
        second.disconnect()
