"""Two `serve` nodes of the distributed deployment: a Pusher socket may be on either.

Triggers and client events are events in the log, which every node reads, so what is sent
through node A reaches subscribers on node B; terminate_connections through A closes the
user's sockets on B.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from pusher.signature import sign
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.pusher_apps import PusherApp, RawSocket, create_app, wait_until_served
from tests.e2e.server import Server


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Server]]:
    with running_stack(tmp_path_factory.mktemp("pusher-nodes"), "distributed") as stack:
        yield stack, stack.add_server()


def _auth(app: PusherApp, socket_id: str, channel: str, channel_data: str | None = None) -> str:
    signed = f"{socket_id}:{channel}" + (f":{channel_data}" if channel_data is not None else "")
    return f"{app.key}:{sign(app.secret, signed)}"


def test_triggers_client_events_and_terminations_cross_nodes(nodes: tuple[Stack, Server]) -> None:
    a, b = nodes
    app = create_app(a)
    wait_until_served(b, app)
    on_a = RawSocket(a, app.key).established()
    on_b = RawSocket(b, app.key).established()
    channel = "presence-across"
    for raw, user in ((on_a, "ann"), (on_b, "bob")):
        data = json.dumps({"user_id": user})
        joined = raw.subscribe(channel, _auth(app, raw.socket_id, channel, data), data)
        assert joined["event"] == "pusher_internal:subscription_succeeded", joined
    # Presence is cluster-wide: ann hears of bob; bob finds ann in his subscription's members
    # or hears of her, whichever came first (tests/e2e/test_pusher_presence_nodes.py).
    assert on_a.recv()["event"] == "pusher_internal:member_added"
    if '"ann"' not in joined["data"]:
        assert on_b.recv()["event"] == "pusher_internal:member_added"

    app.backend(a).trigger(channel, "news", "through A", socket_id=on_a.socket_id)
    told = on_b.recv()
    assert (told["event"], told["data"]) == ("news", "through A")

    on_a.send({"event": "client-wave", "channel": channel, "data": {"from": "ann"}})
    waved = on_b.recv()
    assert waved == {
        "event": "client-wave",
        "channel": channel,
        "data": {"from": "ann"},
        "user_id": "ann",
    }
    on_a.ping()  # the sender heard neither its own client event nor the excluded trigger

    user_data = json.dumps({"id": "leaver"})
    signature = sign(app.secret, f"{on_b.socket_id}::user::{user_data}")
    on_b.send(
        {
            "event": "pusher:signin",
            "data": {"user_data": user_data, "auth": f"{app.key}:{signature}"},
        }
    )
    assert on_b.recv()["event"] == "pusher:signin_success"
    app.backend(a).terminate_user_connections("leaver")
    deadline = time.monotonic() + 15
    frames = []
    with pytest.raises(ConnectionClosed) as closed:
        while time.monotonic() < deadline:
            frames.append(on_b.recv(timeout=deadline - time.monotonic()))
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4009
    assert frames[-1]["event"] == "pusher:error" and frames[-1]["data"]["code"] == 4009
    on_a.ping()
