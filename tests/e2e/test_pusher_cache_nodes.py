"""Cache channels on a node that was not running when their last event was triggered: a
restarted node (embedded) or a second serve node (distributed) replays it from the log to a
Pysher subscriber and shows it in info=cache, as Pusher does, instead of `cache_miss`.

Expiry after Pusher's hour is tested with a clock in tests/unit/gateways/test_pusher_cache.py.
"""

from __future__ import annotations

import time
import uuid

import pusher

from tests.e2e.conftest import Stack
from tests.e2e.pusher_apps import PusherApp, create_app, wait_until_served
from tests.e2e.pysher_recorder import RecordingPysher
from tests.e2e.server import Server


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
    subscriber = RecordingPysher(node.port, app.key)
    try:
        subscriber.subscribe(subscribed)
        assert subscriber.received(subscribed, 2) == [
            ("pusher_internal:subscription_succeeded", "{}"),
            ("story", '{"n": 1}'),
        ]
        subscriber.subscribe(empty)
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
    second = RecordingPysher(node.port, app.key)
    try:
        second.subscribe(asked)
        assert second.received(asked, 2)[1] == ("story", '{"n": 1}')
    finally:
        second.disconnect()
