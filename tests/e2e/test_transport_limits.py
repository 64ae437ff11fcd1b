"""Transport limits of `hubline serve`: request heads are bounded in time and size, connections
in number, and what clients get wrong at this level is logged without an ERROR or traceback.

Embedded only: the transport (uvicorn and its protocols) is the same on both deployments.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as connect_websocket

from tests.e2e.conftest import Stack, running_stack

HEADER_TIMEOUT = 1.0
WS_HEADERS = (
    b"Host: hubline\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"HUBLINE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT)}
    with running_stack(tmp_path_factory.mktemp("transport"), env=env) as stack:
        yield stack


def connect(stack: Stack, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", stack.server.port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def status_of(sock: socket.socket) -> int:
    """The status code of the response the server sends on this connection."""
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        assert chunk, f"the server closed the connection without an answer: {received!r}"
        received += chunk
    return int(received.split(b" ", 2)[1])


def read_response(sock: socket.socket) -> bytes:
    """Everything until the head of a response and its Content-Length body arrived."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        assert chunk, f"the server closed the connection mid-response: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head


def answer_to(stack: Stack, request: bytes) -> int:
    with connect(stack) as sock:
        sock.sendall(request)
        return status_of(sock)


def assert_logged_quietly(stack: Stack) -> None:
    log = stack.server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
    assert "ERROR" not in log, log[-4000:]


@pytest.mark.parametrize("upgrade", [False, True], ids=["http", "websocket-upgrade"])
def test_a_request_target_over_8_kib_is_answered_414(server: Stack, upgrade: bool) -> None:
    path = b"/api/v1/ws?after=" + b"1" * 9000 if upgrade else b"/readyz?" + b"a" * 9000
    head = WS_HEADERS if upgrade else b"Host: hubline\r\n"
    assert answer_to(server, b"GET " + path + b" HTTP/1.1\r\n" + head + b"\r\n") == 414
    assert_logged_quietly(server)


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + b"a" * 1024 * 1024 + b"\r\n",
        b"".join(b"X-Many-%d: %s\r\n" % (i, b"a" * 100) for i in range(200)),
    ],
    ids=["one-1-MiB-header", "200-headers"],
)
@pytest.mark.parametrize("upgrade", [False, True], ids=["http", "websocket-upgrade"])
def test_headers_over_16_kib_are_answered_431(server: Stack, headers: bytes, upgrade: bool) -> None:
    path, head = (b"/api/v1/ws", WS_HEADERS) if upgrade else (b"/readyz", b"Host: hubline\r\n")
    try:
        status = answer_to(server, b"GET " + path + b" HTTP/1.1\r\n" + head + headers + b"\r\n")
    except ConnectionResetError:
        pytest.fail("the connection was reset instead of answered")
    assert status == 431
    assert_logged_quietly(server)


def test_a_websocket_header_line_over_the_handshake_limit_is_answered_431(
    server: Stack,
) -> None:
    """Under the server's 16 KiB, over the 8 KiB line websockets reads: answered all the same."""
    line = b"X-Long: " + b"a" * 9000 + b"\r\n"
    assert answer_to(server, b"GET /api/v1/ws HTTP/1.1\r\n" + WS_HEADERS + line + b"\r\n") == 431


def test_a_request_head_that_never_ends_is_answered_408(server: Stack) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: hubline\r\n")
        assert status_of(sock) == 408
        assert time.monotonic() - started < HEADER_TIMEOUT + 3
    assert_logged_quietly(server)


def test_a_trickled_request_head_is_cut_off_at_the_timeout(server: Stack) -> None:
    """A byte every 200 ms would keep an idle timer alive; the head timer counts from the start."""
    with connect(server) as sock:
        sock.sendall(b"GET /readyz HTTP/1.1\r\n")
        started = time.monotonic()
        answered = None
        while time.monotonic() - started < HEADER_TIMEOUT + 5:
            try:
                sock.sendall(b"X")
            except OSError:
                break
            sock.settimeout(0.2)
            try:
                answered = sock.recv(4096)
                break
            except TimeoutError:
                continue
        assert answered is not None and answered.startswith(b"HTTP/1.1 408"), answered


def test_a_connection_that_sends_nothing_is_closed(server: Stack) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        assert sock.recv(4096) == b""
        assert time.monotonic() - started < HEADER_TIMEOUT + 3
    assert_logged_quietly(server)


def test_keep_alive_outlasts_the_head_timeout(server: Stack) -> None:
    """The head timer stops when a head is complete: a connection may idle between requests."""
    with connect(server) as sock:
        for _ in range(2):
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: hubline\r\n\r\n")
            assert read_response(sock).startswith(b"HTTP/1.1 200")
            time.sleep(HEADER_TIMEOUT * 1.5)


def test_refusals_bad_frames_and_abandoned_bodies_log_no_error(server: Stack) -> None:
    # A websocket upgrade the application refuses (no credential).
    assert answer_to(server, b"GET /api/v1/ws HTTP/1.1\r\n" + WS_HEADERS + b"\r\n") == 401

    # A text frame that is not UTF-8: closed with 1007 (invalid frame payload data).
    token = server.token("deviceAuth:read").encode()
    with connect(server) as sock:
        sock.sendall(
            b"GET /api/v1/ws HTTP/1.1\r\n"
            + WS_HEADERS
            + b"Authorization: Bearer "
            + token
            + b"\r\n\r\n"
        )
        assert status_of(sock) == 101
        sock.sendall(_masked_text_frame(b"\xff\xfe\xfd"))
        close = _close_frame(sock)
        assert struct.unpack("!H", close[:2])[0] == 1007

    # A client that goes away in the middle of a body the server is reading.
    for request in (
        b"POST /connect/token HTTP/1.1\r\nHost: hubline\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
        b"grant_type=",
        b"POST /api/v1/tokens HTTP/1.1\r\nHost: hubline\r\nAuthorization: Bearer "
        + server.token("tokens:create").encode()
        + b'\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":',
    ):
        with connect(server) as sock:
            sock.sendall(request)
            time.sleep(0.3)
    time.sleep(0.5)
    assert_logged_quietly(server)


def test_a_message_over_the_size_limit_gets_its_close_frame_while_still_sending(
    server: Stack,
) -> None:
    # The server closes on reading the frame's header, with megabytes still on their way: it
    # must keep reading (and dropping) them, or its kernel's reset discards the 1009.
    token = server.token("deviceAuth:read")
    url = f"ws://127.0.0.1:{server.server.port}/api/v1/ws"
    headers = {"Authorization": f"Bearer {token}"}
    with (
        connect_websocket(url, additional_headers=headers, max_size=None) as client,
        pytest.raises(ConnectionClosed) as closed,
    ):
        client.send("x" * (8 * 1024 * 1024))
        client.recv(timeout=10)
    assert closed.value.rcvd is not None, "the close frame was lost"
    assert closed.value.rcvd.code == 1009
    assert_logged_quietly(server)


def _masked_text_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def _close_frame(sock: socket.socket) -> bytes:
    """The payload of the first close frame the server sends (skipping other frames)."""
    buffer = b""
    while True:
        while len(buffer) < 2:
            chunk = sock.recv(4096)
            assert chunk, "closed without a close frame"
            buffer += chunk
        opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
        offset = 2
        if length == 126:
            length, offset = struct.unpack("!H", buffer[2:4])[0], 4
        while len(buffer) < offset + length:
            buffer += sock.recv(4096)
        payload, buffer = buffer[offset : offset + length], buffer[offset + length :]
        if opcode == 0x8:
            return payload


def test_past_the_connection_limit_requests_and_upgrades_are_answered_503(
    tmp_path: Path,
) -> None:
    env = {"HUBLINE_MAX_CONNECTIONS": "4"}
    with running_stack(tmp_path, env=env) as stack:
        idle = [connect(stack) for _ in range(4)]
        try:
            time.sleep(0.2)
            assert answer_to(stack, b"GET /readyz HTTP/1.1\r\nHost: hubline\r\n\r\n") == 503
            upgrade = b"GET /ws/devices/DEV-1 HTTP/1.1\r\n" + WS_HEADERS + b"\r\n"
            assert answer_to(stack, upgrade) == 503
        finally:
            for sock in idle:
                sock.close()
        time.sleep(0.2)
        assert answer_to(stack, b"GET /readyz HTTP/1.1\r\nHost: hubline\r\n\r\n") == 200
        log = stack.server.log_path.read_text(errors="replace")
        assert "Traceback" not in log, log[-4000:]
