"""What Pusher's clients would never send, and what the server does about it: each gets
Pusher's error (a `pusher:error` frame, a close code) and the other connections carry on."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pusher.signature import sign
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.pusher_apps import PusherApp, RawSocket, create_app


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The protocol code is the same on both deployments; one embedded server is enough.
    with running_stack(tmp_path_factory.mktemp("pusher-bad-input")) as stack:
        yield stack


def _auth(app: PusherApp, socket_id: str, channel: str, channel_data: str | None = None) -> str:
    """Signed by the `pusher` library; channel_data as given, however malformed."""
    signed = f"{socket_id}:{channel}" + (f":{channel_data}" if channel_data is not None else "")
    return f"{app.key}:{sign(app.secret, signed)}"


def _channel(kind: str = "") -> str:
    return f"{kind}{uuid.uuid4().hex[:10]}"


class Witness:
    """Another connection of the same app that must carry on: it is told a trigger."""

    def __init__(self, stack: Stack, app: PusherApp) -> None:
        self.stack = stack
        self.app = app
        self.socket = RawSocket(stack, app.key).established()
        self.channel = _channel("public-")
        assert (
            self.socket.subscribe(self.channel)["event"] == "pusher_internal:subscription_succeeded"
        )

    def carries_on(self) -> None:
        self.socket.ping()
        marker = uuid.uuid4().hex
        self.app.backend(self.stack).trigger(self.channel, "still-here", marker)
        got = self.socket.recv()
        assert (got["event"], got["data"]) == ("still-here", marker), got


def _closed_with(raw: RawSocket, within: float = 10) -> tuple[int | None, list[dict[str, object]]]:
    frames = []
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            frames.append(raw.recv(timeout=deadline - time.monotonic()))
    except ConnectionClosed as closed:
        return (closed.rcvd.code if closed.rcvd else None), frames
    raise AssertionError(f"not closed within {within} s: {frames}")


def _error(frame: dict[str, object]) -> tuple[object, str]:
    assert frame["event"] == "pusher:error", frame
    data = frame["data"]
    assert isinstance(data, dict)
    return data["code"], str(data["message"])


def test_forged_channel_auth(embedded: Stack) -> None:
    app = create_app(embedded)
    witness = Witness(embedded, app)
    raw = RawSocket(embedded, app.key).established()
    channel = _channel("private-")
    other_secret = PusherApp(app.app_id, app.key, "not-the-secret")
    for auth in (
        _auth(other_secret, raw.socket_id, channel),
        _auth(app, "1.1", channel),  # signed for another socket
        f"another-key:{_auth(app, raw.socket_id, channel).split(':')[1]}",
        "no colon",
        "",
    ):
        code, message = _error(raw.subscribe(channel, auth))
        assert code is None and "Invalid signature" in message
    answer = raw.subscribe(channel)  # no auth at all
    assert _error(answer)[0] is None
    # Nothing changed: the channel has no subscriber, and a trigger reaches nobody there.
    assert app.backend(embedded).channel_info(channel) == {"occupied": False}
    raw.ping()
    witness.carries_on()


def test_client_events_only_where_pusher_takes_them(embedded: Stack) -> None:
    app = create_app(embedded)
    witness = Witness(embedded, app)
    sender = RawSocket(embedded, app.key).established()
    listener = RawSocket(embedded, app.key).established()
    public, encrypted = _channel("public-"), _channel("private-encrypted-")
    for raw in (sender, listener):
        assert raw.subscribe(public)["event"].endswith("subscription_succeeded")
        answer = raw.subscribe(encrypted, _auth(app, raw.socket_id, encrypted))
        assert answer["event"].endswith("subscription_succeeded")
    for channel in (public, encrypted):
        sender.send({"event": "client-hi", "channel": channel, "data": {}})
        code, message = _error(sender.recv())
        assert code == 4301 and "not supported" in message
    private = _channel("private-")
    sender.send({"event": "client-hi", "channel": private, "data": {}})  # not subscribed
    assert _error(sender.recv())[0] == 4301
    sender.send({"event": "pusher_internal:member_added", "channel": public, "data": {}})
    assert _error(sender.recv())[0] is None
    sender.ping()
    listener.ping()  # it was told nothing: the pong is the next frame it reads
    witness.carries_on()


def test_client_event_flood(embedded: Stack) -> None:
    app = create_app(embedded, "max_client_events_per_second=5")
    witness = Witness(embedded, app)
    sender = RawSocket(embedded, app.key).established()
    listener = RawSocket(embedded, app.key).established()
    channel = _channel("private-")
    for raw in (sender, listener):
        assert raw.subscribe(channel, _auth(app, raw.socket_id, channel))["event"].endswith(
            "succeeded"
        )
    for n in range(40):
        sender.send({"event": "client-flood", "channel": channel, "data": {"n": n}})
    sender.send({"event": "pusher:ping", "data": {}})
    refused = 0
    while (frame := sender.recv())["event"] != "pusher:pong":
        assert _error(frame)[0] == 4301
        refused += 1
    # 5 a second: 40 sent in well under two seconds leave at most 10 through.
    assert refused >= 30
    # What got through reaches the listener through the log: read until it falls silent.
    received = []
    with contextlib.suppress(TimeoutError):
        while True:
            received.append(listener.recv(timeout=2))
    assert 1 <= len(received) <= 10 and all(f["event"] == "client-flood" for f in received)
    witness.carries_on()


def test_malformed_frames(embedded: Stack) -> None:
    app = create_app(embedded)
    witness = Witness(embedded, app)
    raw = RawSocket(embedded, app.key).established()
    for frame in (
        "nonsense",
        "{",
        "[1, 2]",
        "null",
        '{"event": 5}',
        '{"event": "pusher:subscribe", "data": 7}',
        '{"event": "pusher:subscribe", "data": {"channel": ["a"]}}',
        '{"event": "pusher:subscribe", "data": "{not json"}',
        '{"event": "client-x", "channel": 5, "data": {}}',
        b"\x00\x01binary",
        json.dumps({"event": "pusher:subscribe", "data": {"channel": "bad channel!"}}),
        json.dumps({"event": "pusher:subscribe", "data": {"channel": "a" * 200}}),
    ):
        raw.send(frame)
        code, message = _error(raw.recv())
        assert code is None and len(message) < 300, message
    raw.ping()
    witness.carries_on()


def test_sixteen_megabyte_frame(embedded: Stack) -> None:
    app = create_app(embedded)
    witness = Witness(embedded, app)
    # A client announcing 16 MB is closed on the frame's header (1009, message too big),
    # before the server reads, let alone holds, the rest.
    announced = _handshaken(embedded, app.key)
    header = bytes([0x81, 0x80 | 127]) + (16 * 1024 * 1024).to_bytes(8, "big") + os.urandom(4)
    announced.sendall(header + b"x" * 4096)
    announced.settimeout(10)
    received = b""
    while chunk := announced.recv(65536):
        received += chunk
    close_at = received.rindex(b"\x88")
    assert received[close_at + 2 : close_at + 4] == (1009).to_bytes(2, "big"), received[-64:]
    announced.close()
    # Over the app's payload limit but within the frame limit: refused, connection kept.
    raw = RawSocket(embedded, app.key).established()
    raw.send(json.dumps({"event": "client-x", "channel": "private-a", "data": "x" * 200_000}))
    assert _error(raw.recv())[0] == 4301
    raw.ping()
    witness.carries_on()


def test_malformed_presence_channel_data(embedded: Stack) -> None:
    app = create_app(embedded, "max_presence_members=2", "max_presence_member_bytes=100")
    witness = Witness(embedded, app)
    member = RawSocket(embedded, app.key).established()
    channel = _channel("presence-")
    data = json.dumps({"user_id": "member", "user_info": {}})
    joined = member.subscribe(channel, _auth(app, member.socket_id, channel, data), data)
    assert json.loads(joined["data"])["presence"]["ids"] == ["member"]
    raw = RawSocket(embedded, app.key).established()
    for channel_data in (
        "not json",
        "[]",
        "{}",
        json.dumps({"user_id": ""}),
        json.dumps({"user_id": None}),
        json.dumps({"user_id": True}),
        json.dumps({"user_id": ["a"]}),
        json.dumps({"user_id": "big", "user_info": "x" * 200}),
        '{"user_id": "deep", "user_info": ' + "[" * 300 + "]" * 300 + "}",
    ):
        # Signed as sent: it is the data that is wrong, not the signature.
        answer = raw.subscribe(
            channel, _auth(app, raw.socket_id, channel, channel_data), channel_data
        )
        code, message = _error(answer)
        assert code is None and "presence" in message.lower(), message
    answer = raw.subscribe(channel, _auth(app, raw.socket_id, channel))  # no channel_data
    assert _error(answer)[0] is None
    # A full channel refuses a new user (2 members at most).
    second = json.dumps({"user_id": "second"})
    assert raw.subscribe(channel, _auth(app, raw.socket_id, channel, second), second)[
        "event"
    ].endswith("succeeded")
    third_socket = RawSocket(embedded, app.key).established()
    third = json.dumps({"user_id": "third"})
    code, message = _error(
        third_socket.subscribe(channel, _auth(app, third_socket.socket_id, channel, third), third)
    )
    assert code is None and "full" in message
    # The member was told about "second" only.
    added = member.recv()
    assert added["event"] == "pusher_internal:member_added"
    assert json.loads(added["data"])["user_id"] == "second"
    member.ping()
    assert app.backend(embedded).users_info(channel)["users"] == [
        {"id": "member"},
        {"id": "second"},
    ]
    witness.carries_on()


def test_over_the_connection_quota(embedded: Stack) -> None:
    app = create_app(embedded, "max_connections=2")
    first = RawSocket(embedded, app.key).established()
    second = RawSocket(embedded, app.key).established()
    third = RawSocket(embedded, app.key)
    code, frames = _closed_with(third)
    assert code == 4004 and _error(frames[0])[0] == 4004
    first.ping()
    second.ping()
    second.close()
    time.sleep(0.3)
    RawSocket(embedded, app.key).established().ping()  # room again


def test_refused_connections(embedded: Stack) -> None:
    app = create_app(embedded)
    witness = Witness(embedded, app)
    for key, query, expected in (
        ("no-such-key", "protocol=7", 4001),
        # Quoted in the error, whose close reason must still fit in 123 bytes.
        ("%C3%A9" * 100, "protocol=7", 4001),
        (app.key, "client=js", 4008),
        (app.key, "protocol=99", 4007),
    ):
        code, frames = _closed_with(RawSocket(embedded, key, query))
        assert code == expected and _error(frames[0])[0] == expected
    disabled = create_app(embedded)
    open_socket = RawSocket(embedded, disabled.key).established()
    embedded.cli("apps", "disable", disabled.app_id)
    code, frames = _closed_with(open_socket)
    assert code == 4003 and _error(frames[-1])[0] == 4003
    code, frames = _closed_with(RawSocket(embedded, disabled.key))
    assert code == 4003
    witness.carries_on()


def test_trigger_excludes_the_senders_socket_and_terminate_closes_the_user(embedded: Stack) -> None:
    app = create_app(embedded)
    backend = app.backend(embedded)
    a = RawSocket(embedded, app.key).established()
    b = RawSocket(embedded, app.key).established()
    channel = _channel("public-")
    for raw in (a, b):
        raw.subscribe(channel)
    backend.trigger(channel, "hello", {"x": 1}, socket_id=a.socket_id)
    got = b.recv()
    assert (got["event"], got["channel"], json.loads(got["data"])) == ("hello", channel, {"x": 1})
    a.ping()  # a was not told
    user = json.dumps({"id": "leaver"})
    a.send(
        {
            "event": "pusher:signin",
            "data": {
                "user_data": user,
                "auth": f"{app.key}:{sign(app.secret, f'{a.socket_id}::user::{user}')}",
            },
        }
    )
    assert a.recv()["event"] == "pusher:signin_success"
    backend.terminate_user_connections("leaver")
    code, frames = _closed_with(a)
    assert code == 4009 and _error(frames[-1]) == (4009, "You got disconnected by the app.")
    b.ping()


def test_slow_consumer_is_dropped_without_slowing_the_others(embedded: Stack) -> None:
    app = create_app(embedded)
    backend = app.backend(embedded)
    channel = _channel("public-")
    reader = RawSocket(embedded, app.key).established()
    reader.subscribe(channel)
    slow = _socket_that_never_reads(embedded, app.key, channel)
    payload = "x" * 80_000
    batches = 12  # ~9.6 MB: past the kernel's buffers and the server's 1 MiB bound
    for _ in range(batches):
        # The library refuses more than 10 KB an event unless told the data is encoded.
        backend.trigger_batch(
            [{"channel": channel, "name": "bulk", "data": payload} for _ in range(10)],
            already_encoded=True,
        )
        for _n in range(10):
            assert reader.recv()["event"] == "bulk"
    slow.settimeout(10)
    # The server closed it: once what the kernel holds is read, the stream ends with a
    # close frame carrying 4100 (Pusher's "over capacity, reconnect later").
    tail = b""
    while chunk := slow.recv(1 << 20):
        tail = (tail + chunk)[-64:]
    assert b"\x88" in tail and (4100).to_bytes(2, "big") in tail
    reader.ping()


def _socket_that_never_reads(stack: Stack, key: str, channel: str) -> socket.socket:
    raw = _handshaken(stack, key, receive_buffer=4096)
    body = json.dumps({"event": "pusher:subscribe", "data": {"channel": channel}}).encode()
    mask = os.urandom(4)
    raw.sendall(
        bytes([0x81, 0x80 | len(body)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(body))
    )
    time.sleep(0.3)  # subscribed; from here it reads nothing
    return raw


def _handshaken(stack: Stack, key: str, receive_buffer: int | None = None) -> socket.socket:
    """A socket past the websocket handshake, for frames no client library would write."""
    port = int(stack.ws_url.rsplit(":", 1)[1])
    raw = socket.socket()
    if receive_buffer is not None:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    raw.connect(("127.0.0.1", port))
    handshake_key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET /app/{key}?protocol=7 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {handshake_key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += raw.recv(1)
    assert b" 101 " in head
    return raw


def test_server_pings_and_closes_without_pong(tmp_path: Path) -> None:
    env = {
        "HUBLINE_PUSHER_ACTIVITY_TIMEOUT_SECONDS": "1",
        "HUBLINE_PUSHER_PONG_TIMEOUT_SECONDS": "1",
    }
    with running_stack(tmp_path, env=env) as stack:
        app = create_app(stack)
        silent = RawSocket(stack, app.key)
        answering = RawSocket(stack, app.key)
        for raw in (silent, answering):
            assert json.loads(raw.recv()["data"])["activity_timeout"] == 1
        assert answering.recv(timeout=5)["event"] == "pusher:ping"
        answering.send({"event": "pusher:pong", "data": {}})
        code, frames = _closed_with(silent)
        assert code == 4201 and frames[0]["event"] == "pusher:ping"
        assert answering.recv(timeout=5)["event"] == "pusher:ping"  # pinged again, not closed
        answering.ping()
