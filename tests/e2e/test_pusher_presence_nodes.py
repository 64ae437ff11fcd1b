"""Presence, channel counts and webhooks across the two serve nodes of the distributed
deployment (and on the embedded one): every node agrees on members and counts, webhooks
say occupied/vacated once per channel for the whole cluster, a node killed with -9 has its
members removed from the other's view within 30 s, and a failing endpoint gets them again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pusher.signature import sign

from gateways.pusher.signatures import signin_message
from tests.e2e.conftest import Stack, running_stack
from tests.e2e.pusher_apps import PusherApp, RawSocket, create_app, wait_until_served
from tests.e2e.server import Server
from tests.e2e.webhook_receiver import set_webhooks, webhook_receiver

PRESENCE_HOOKS = ("channel_occupied", "channel_vacated", "member_added", "member_removed")


def _join(app: PusherApp, raw: RawSocket, channel: str, user: str) -> dict[str, Any]:
    data = json.dumps({"user_id": user, "user_info": {"name": user}})
    signed = sign(app.secret, f"{raw.socket_id}:{channel}:{data}")
    joined = raw.subscribe(channel, f"{app.key}:{signed}", data)
    assert joined["event"] == "pusher_internal:subscription_succeeded", joined
    return dict(json.loads(joined["data"])["presence"])


def _eventually(check: Callable[[], Any], expected: Any, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while (got := check()) != expected:
        assert time.monotonic() < deadline, f"{got} != {expected}"
        time.sleep(0.1)


def _users(stack: Stack | Server, app: PusherApp, channel: str) -> list[str]:
    backend = app.backend(stack)  # type: ignore[arg-type]
    return sorted(u["id"] for u in backend.users_info(channel)["users"])


def _counts(stack: Stack | Server, app: PusherApp, channel: str) -> dict[str, Any]:
    backend = app.backend(stack)  # type: ignore[arg-type]
    return dict(backend.channel_info(channel, ["user_count", "subscription_count"]))


@pytest.fixture()
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Server]]:
    with running_stack(tmp_path_factory.mktemp("presence-nodes"), "distributed") as stack:
        yield stack, stack.add_server()


def test_presence_agrees_across_nodes_and_a_killed_node_leaves(
    nodes: tuple[Stack, Server],
) -> None:
    a, b = nodes
    app = create_app(a)
    wait_until_served(b, app)
    channel = "presence-room"
    with webhook_receiver(app, failures=2) as hooks:
        set_webhooks(a, app, hooks.url, *PRESENCE_HOOKS)
        ann = RawSocket(a, app.key).established()
        assert _join(app, ann, channel, "ann")["ids"] == ["ann"]
        _eventually(lambda: _users(b, app, channel), ["ann"])

        bob = RawSocket(b, app.key).established()
        seen_by_bob = _join(app, bob, channel, "bob")
        assert sorted(seen_by_bob["ids"]) == ["ann", "bob"]
        assert seen_by_bob["hash"]["ann"] == {"name": "ann"}
        added = ann.recv()
        assert added["event"] == "pusher_internal:member_added"
        assert json.loads(added["data"])["user_id"] == "bob"

        # Bob's second socket, on the other node: no second member_added for anyone.
        bob_again = RawSocket(a, app.key).established()
        _eventually(lambda: _users(a, app, channel), ["ann", "bob"])
        assert sorted(_join(app, bob_again, channel, "bob")["ids"]) == ["ann", "bob"]
        for node in (a, b):
            _eventually(lambda n=node: _users(n, app, channel), ["ann", "bob"])  # type: ignore[misc]
            _eventually(
                lambda n=node: _counts(n, app, channel),  # type: ignore[misc]
                {"occupied": True, "user_count": 2, "subscription_count": 3},
            )
        bob_again.close()
        ann.ping()  # bob is still there through node B: nobody was told he left
        bob.ping()

        # A public channel with a subscriber on each node: occupied and vacated once.
        public = [RawSocket(n, app.key).established() for n in (a, b)]
        for raw in public:
            assert raw.subscribe("lobby")["event"] == "pusher_internal:subscription_succeeded"
        for node in (a, b):
            _eventually(
                lambda n=node: app.backend(n).channel_info("lobby", ["subscription_count"]),  # type: ignore[misc]
                {"occupied": True, "subscription_count": 2},
            )
        for raw in public:
            raw.close()
        # Events of the two failed requests come again later: wait for both.
        hooks.wait_for(
            lambda events: (
                {("channel_occupied", "lobby"), ("channel_vacated", "lobby")}
                <= {(e["name"], e["channel"]) for e in events}
            )
        )
        time.sleep(1)  # a second occupied or vacated would be here by now
        assert len(hooks.named("channel_occupied", "lobby")) == 1
        assert len(hooks.named("channel_vacated", "lobby")) == 1

        # kill -9 of node B: bob leaves A's view, A's sockets are told, within 30 s.
        killed_at = time.monotonic()
        b.kill()
        removed = ann.recv(timeout=30)
        assert removed["event"] == "pusher_internal:member_removed", removed
        assert json.loads(removed["data"])["user_id"] == "bob"
        assert time.monotonic() - killed_at < 30
        assert _users(a, app, channel) == ["ann"]
        assert _counts(a, app, channel) == {
            "occupied": True,
            "user_count": 1,
            "subscription_count": 1,
        }
        ann.close()
        hooks.wait_for(
            lambda events: any(
                e["name"] == "channel_vacated" and e["channel"] == channel for e in events
            )
        )
        assert sorted(e["user_id"] for e in hooks.named("member_added", channel)) == ["ann", "bob"]
        assert sorted(e["user_id"] for e in hooks.named("member_removed", channel)) == [
            "ann",
            "bob",
        ]
        assert len(hooks.named("channel_occupied", channel)) == 1
        assert hooks.bad_signatures == 0
        assert hooks.requests > 2  # the two failures were retried


def _frame_data(frame: dict[str, Any]) -> Any:
    data = frame["data"]
    return json.loads(data) if isinstance(data, str) else data


def _until_frame(raw: RawSocket, event: str, data: Any, within: float = 15) -> None:
    """Reads the socket's frames until `event` with `data` (earlier figures may come first:
    the other node's changes arrive through the log)."""
    deadline = time.monotonic() + within
    seen: list[dict[str, Any]] = []
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {event} {data} in {seen}"
        frame = raw.recv(timeout=left)
        if frame["event"] == event and _frame_data(frame) == data:
            return
        seen.append(frame)


def _sign_in(app: PusherApp, raw: RawSocket, user: str, watchlist: list[str]) -> None:
    user_data = json.dumps({"id": user, "watchlist": watchlist})
    auth = f"{app.key}:{sign(app.secret, signin_message(raw.socket_id, user_data))}"
    raw.send({"event": "pusher:signin", "data": {"user_data": user_data, "auth": auth}})
    assert raw.recv()["event"] == "pusher:signin_success"


def test_subscription_counts_and_watchlists_span_nodes(nodes: tuple[Stack, Server]) -> None:
    a, b = nodes
    app = create_app(a, "subscription_count_events=true")
    wait_until_served(b, app)
    count_event = "pusher_internal:subscription_count"

    on_a = RawSocket(a, app.key).established()
    assert on_a.subscribe("counted")["event"] == "pusher_internal:subscription_succeeded"
    _until_frame(on_a, count_event, {"subscription_count": 1})
    on_b = RawSocket(b, app.key).established()
    assert on_b.subscribe("counted")["event"] == "pusher_internal:subscription_succeeded"
    # Node A's socket hears of node B's subscriber, and B's socket counts A's.
    _until_frame(on_a, count_event, {"subscription_count": 2})
    _until_frame(on_b, count_event, {"subscription_count": 2})
    on_b.close()
    _until_frame(on_a, count_event, {"subscription_count": 1})
    on_a.close()

    watcher = RawSocket(a, app.key).established()
    _sign_in(app, watcher, "watcher", ["wanda"])
    offline = {"events": [{"name": "offline", "user_ids": ["wanda"]}]}
    online = {"events": [{"name": "online", "user_ids": ["wanda"]}]}
    _until_frame(watcher, "pusher_internal:watchlist_events", offline)
    wanda = RawSocket(b, app.key).established()
    _sign_in(app, wanda, "wanda", [])
    _until_frame(watcher, "pusher_internal:watchlist_events", online)
    wanda.close()
    _until_frame(watcher, "pusher_internal:watchlist_events", offline)
    # A watcher that arrives later on node A finds wanda online on node B at once.
    wanda_again = RawSocket(b, app.key).established()
    _sign_in(app, wanda_again, "wanda", [])
    _until_frame(watcher, "pusher_internal:watchlist_events", online)
    late = RawSocket(a, app.key).established()
    _sign_in(app, late, "late", ["wanda"])
    _until_frame(late, "pusher_internal:watchlist_events", online)
    # Node B killed: wanda goes offline for node A's watchers.
    b.kill()
    _until_frame(watcher, "pusher_internal:watchlist_events", offline, within=30)
    watcher.close()
    late.close()


def test_webhooks_embedded_with_retries(tmp_path_factory: pytest.TempPathFactory) -> None:
    with running_stack(tmp_path_factory.mktemp("webhooks-embedded")) as stack:
        app = create_app(stack)
        with webhook_receiver(app, failures=1) as hooks:
            set_webhooks(stack, app, hooks.url, *PRESENCE_HOOKS, "client_event", "cache_miss")
            time.sleep(1.5)  # the app's sockets learn the new webhooks from the feed
            ann = RawSocket(stack, app.key).established()
            bob = RawSocket(stack, app.key).established()
            _join(app, ann, "presence-e", "ann")
            _join(app, bob, "presence-e", "bob")
            assert ann.recv()["event"] == "pusher_internal:member_added"
            bob.send({"event": "client-hi", "channel": "presence-e", "data": {"n": 1}})
            assert ann.recv()["event"] == "client-hi"
            cached = ann.subscribe("cache-news")
            assert cached["event"] == "pusher_internal:subscription_succeeded"
            assert ann.recv()["event"] == "pusher:cache_miss"
            bob.close()
            ann.close()

            # The first request failed: its events come again a second later, after the
            # later ones (retries are at least once, not in order), and batches may arrive
            # in any order: wait for every event the test expects, not for the last one.
            def arrived(found: list[dict[str, Any]]) -> bool:
                names = [(e["name"], e["channel"]) for e in found]
                return (
                    names.count(("channel_vacated", "presence-e")) >= 1
                    and names.count(("channel_vacated", "cache-news")) >= 1
                    and ("channel_occupied", "presence-e") in names
                    and names.count(("member_added", "presence-e")) >= 2
                    and names.count(("member_removed", "presence-e")) >= 2
                    and ("cache_miss", "cache-news") in names
                    and any(e["name"] == "client_event" for e in found)
                )

            events = hooks.wait_for(arrived)
        names = [(e["name"], e["channel"]) for e in events]
        assert names.count(("channel_occupied", "presence-e")) == 1
        assert names.count(("member_added", "presence-e")) == 2
        assert names.count(("member_removed", "presence-e")) == 2
        assert ("cache_miss", "cache-news") in names
        client = next(e for e in events if e["name"] == "client_event")
        assert client["event"] == "client-hi" and client["user_id"] == "bob"
        assert json.loads(client["data"]) == {"n": 1}
        assert hooks.bad_signatures == 0 and hooks.requests >= 2
        attempts = [
            json.loads(line)
            for line in stack.cli("apps", "webhooks", app.app_id).stdout.splitlines()
        ]
        outcomes = {a["outcome"] for a in attempts}
        assert {"delivered", "retrying"} <= outcomes, attempts
        assert any(a["status"] == 500 and a["url"] == hooks.url for a in attempts)
