"""A Pusher socket's writer: frames in order, closes as Pusher closes, slow clients cut off."""

from __future__ import annotations

import asyncio
from typing import Any

from domain.pusher.apps import AppConfig
from gateways.pusher import connection as connection_module
from gateways.pusher.connection import (
    CLIENT_LEFT,
    Ending,
    PendingWrites,
    PusherConnection,
    SharedText,
)
from infra.transport.websocket_protocol import SEND_FRAMES, text_frame

APP = AppConfig("1", "key", "secret", "test")


class _Socket:
    """An ASGI send that records what was written; `stuck` holds writes like a full buffer."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.stuck = asyncio.Event()
        self.stuck.set()

    async def send(self, message: dict[str, Any]) -> None:
        await self.stuck.wait()
        self.sent.append(message)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_frames_are_written_in_order_then_the_close() -> None:
    async def scenario() -> list[dict[str, Any]]:
        socket = _Socket()
        connection = PusherConnection("1.1", APP, buffer_limit=1 << 20)
        connection.deliver("a")  # queued before the socket is attached: written first
        connection.attach({}, socket.send)
        connection.deliver("b")
        await _settle()
        connection.deliver("c")
        connection.end(Ending(4009, "bye", error="err"))
        connection.deliver("ignored")
        assert connection.writer is not None
        await asyncio.wait_for(connection.writer, 1)
        return socket.sent

    sent = asyncio.run(scenario())
    assert [m.get("text") for m in sent[:-1]] == ["a", "b", "c", "err"]
    assert sent[-1] == {"type": "websocket.close", "code": 4009, "reason": "bye"}


def test_a_client_that_left_is_written_nothing_more() -> None:
    async def scenario() -> list[dict[str, Any]]:
        socket = _Socket()
        connection = PusherConnection("1.1", APP, buffer_limit=1 << 20)
        connection.attach({}, socket.send)
        await _settle()
        connection.end(CLIENT_LEFT)
        connection.deliver("late")
        await _settle()
        assert connection.writer is not None and connection.writer.done()
        return socket.sent

    assert asyncio.run(scenario()) == []


def test_a_slow_client_is_cut_off_with_4100_and_its_reader_stopped(monkeypatch: Any) -> None:
    monkeypatch.setattr(connection_module, "CLOSE_SECONDS", 0.05)

    async def scenario() -> tuple[list[dict[str, Any]], bool]:
        socket = _Socket()
        reader = asyncio.current_task()
        connection = PusherConnection("1.1", APP, buffer_limit=100)
        connection.attach({}, socket.send)
        socket.stuck.clear()  # the client stopped reading
        connection.deliver("x" * 60)
        await _settle()  # the writer holds "x", waiting for the client
        connection.deliver("y" * 60)
        assert connection.ending is None
        connection.deliver("z" * 60)  # past the bound: the queue is dropped
        assert connection.ending is not None and connection.ending.code == 4100
        try:
            await asyncio.sleep(1)  # the writer cannot close either: it stops the reader
        except asyncio.CancelledError:
            assert reader is not None
            reader.uncancel()
            return socket.sent, True
        return socket.sent, False

    sent, reader_stopped = asyncio.run(scenario())
    assert sent == [] and reader_stopped


class _Transport:
    """A transport taking pre-encoded frames; `paused` refuses writes as a full buffer does."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.sent: list[dict[str, Any]] = []
        self.paused = False

    def write(self, data: bytes) -> bool:
        if self.paused:
            return False
        self.writes.append(data)
        return True

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def scope(self) -> dict[str, Any]:
        return {"extensions": {SEND_FRAMES: {"write": self.write}}}


def test_an_idle_socket_gets_a_callbacks_frames_in_one_write_without_its_writer() -> None:
    async def scenario() -> tuple[_Transport, _Transport]:
        pending = PendingWrites()
        first, second = _Transport(), _Transport()
        connections = [PusherConnection(f"1.{n}", APP, buffer_limit=1 << 20) for n in (1, 2)]
        for connection, transport in zip(connections, (first, second), strict=True):
            connection.attach(transport.scope, transport.send, pending)
        await _settle()  # both writers are idle now
        shared = SharedText('{"event":"e"}')
        for connection in connections:
            connection.deliver(shared)
            connection.deliver("b")
        assert first.writes == []  # written once the current callback is done
        await asyncio.sleep(0)
        return first, second

    first, second = asyncio.run(scenario())
    expected = [text_frame('{"event":"e"}') + text_frame("b")]
    assert first.writes == expected and second.writes == expected
    assert first.sent == [] and second.sent == []


def test_a_paused_transport_hands_the_frames_to_the_writer_in_order() -> None:
    async def scenario() -> _Transport:
        pending = PendingWrites()
        transport = _Transport()
        connection = PusherConnection("1.1", APP, buffer_limit=1 << 20)
        connection.attach(transport.scope, transport.send, pending)
        await _settle()
        transport.paused = True
        connection.deliver("a")
        await asyncio.sleep(0)  # the write is refused: the writer is woken instead
        connection.deliver("b")
        await _settle()
        return transport

    transport = asyncio.run(scenario())
    assert transport.writes == []
    assert [m["bytes"] for m in transport.sent] == [text_frame("a") + text_frame("b")]
