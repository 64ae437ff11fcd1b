"""One Pusher socket: who it is, what it joined, and what waits to be written to it.

Deliveries never wait for the client: they are appended to the connection's outbox and
written by the socket's writer task, which waits on a bare future while the outbox is empty
(an asyncio.Event would add a waiter deque to every idle socket, and starting a task per
burst instead cost twice the CPU per delivery). A client that lets its outbox grow past
the bound (its transport stopped taking bytes) is ended (4100, reconnect after a pause)
and loses what was queued, so the fan-out to every other subscriber goes on at full speed.

Where the transport takes pre-encoded frames (SEND_FRAMES), an event published to a
channel carries its websocket frame, encoded once for every subscriber (SharedText).
Frames queued to a socket whose writer is idle are written by PendingWrites once the
current callback (a batch of the log feed, say) is done: one transport write per socket
for all its frames, without waking its writer (a task switch per socket was most of the
cost of a paced fan-out). The writer takes over only where the transport stopped taking
bytes, and writes everything queued in one go when it can.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import Scope, Send

from domain.pusher.apps import AppConfig
from gateways.pusher import protocol
from infra.transport.websocket_protocol import SEND_FRAMES, text_frame

log = logging.getLogger(__name__)

# How long a close frame may wait for a congested client before the socket is dropped.
CLOSE_SECONDS = 5.0


@dataclass(frozen=True)
class Ending:
    """Why the server closes a socket: the close code, and an error frame sent first."""

    code: int
    reason: str
    # Written after what is queued; None when the client is too slow to read anything more.
    error: str | None = None
    drain: bool = True


# The client left: nothing more is written, not even a close frame.
CLIENT_LEFT = Ending(1000, "client left", drain=False)


class SharedText(str):
    """A frame's text queued to many sockets, with its websocket frame encoded once.

    A str, so that it queues, counts and reads (take_frames, tests) like any other frame.
    """

    frame: bytes

    def __new__(cls, text: str) -> SharedText:
        shared = super().__new__(cls, text)
        shared.frame = text_frame(text)
        return shared


class PendingWrites:
    """The idle sockets given frames during the current callback, each flushed once after it.

    One loop callback for every socket of a fan-out, instead of a task switch per socket;
    frames queued to one socket by several events of a batch go out in one write.
    """

    __slots__ = ("_connections",)

    def __init__(self) -> None:
        self._connections: list[PusherConnection] = []

    def add(self, connection: PusherConnection) -> None:
        if not self._connections:
            asyncio.get_running_loop().call_soon(self._flush)
        self._connections.append(connection)

    def _flush(self) -> None:
        connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.flush()
            except Exception:  # one socket's failure must not keep the others waiting
                log.exception("could not write to a Pusher socket")


class PusherConnection:
    __slots__ = (
        "_buffer_limit",
        "_client_events",
        "_flush_pending",
        "_outbox",
        "_pending_writes",
        "_queued_bytes",
        "_raw_frames",
        "_reader",
        "_send",
        "_waiter",
        "_window",
        "_write_now",
        "app",
        "ending",
        "last_seen",
        "ping_sent_at",
        "scope",
        "socket_id",
        "subscriptions",
        "user_id",
        "writer",
    )

    def __init__(self, socket_id: str, app: AppConfig, buffer_limit: int) -> None:
        self.socket_id = socket_id
        self.app = app
        # Set by pusher:signin.
        self.user_id: str | None = None
        # Channel -> the presence user id this socket joined it as (None on other kinds).
        self.subscriptions: dict[str, str | None] = {}
        self.last_seen = time.monotonic()
        self.ping_sent_at: float | None = None
        self.ending: Ending | None = None
        # A list, not a deque: an empty deque holds a 64-slot block, on every idle socket.
        self._outbox: list[str] = []
        self._queued_bytes = 0
        self._buffer_limit = buffer_limit
        self._window = 0
        self._client_events = 0
        # The socket's ASGI scope (who connected, from where) and send; None in unit tests,
        # where frames stay in the outbox for the test to take.
        self.scope: Scope | None = None
        self._send: Send | None = None
        # Whether the transport takes frames we encoded (written in one go), and its
        # write that does not wait (False where it would).
        self._raw_frames = False
        self._write_now: Callable[[bytes], bool] | None = None
        self._pending_writes: PendingWrites | None = None
        self._flush_pending = False
        # The task reading the socket: cancelled when a close frame cannot be written.
        self._reader: asyncio.Task[Any] | None = None
        # Writes the outbox (from attach on); it waits on _waiter while there is nothing.
        self.writer: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def attach(self, scope: Scope, send: Send, pending_writes: PendingWrites | None = None) -> None:
        """Called by the task that reads the socket, with the socket's scope and send."""
        self.scope = scope
        self._send = send
        frames_extension = (scope.get("extensions") or {}).get(SEND_FRAMES)
        self._raw_frames = frames_extension is not None
        if frames_extension is not None and pending_writes is not None:
            self._write_now = frames_extension.get("write")
            self._pending_writes = pending_writes
        self._reader = asyncio.current_task()
        self.writer = asyncio.get_running_loop().create_task(self._write())

    def deliver(self, text: str) -> None:
        if self.ending is not None:
            return
        self._outbox.append(text)
        self._queued_bytes += len(text)
        if self._queued_bytes > self._buffer_limit:
            self._outbox = []
            self._queued_bytes = 0
            self.end(
                Ending(protocol.OVER_CAPACITY, "Client too slow: send buffer full", drain=False)
            )
            return
        if self._waiter is not None and self._pending_writes is not None:
            # The writer is idle: nothing is being written, so the outbox goes out in order.
            if not self._flush_pending:
                self._flush_pending = True
                self._pending_writes.add(self)
            return
        self._wake()

    def flush(self) -> None:
        """Writes the outbox at once (PendingWrites); wakes the writer where it cannot."""
        self._flush_pending = False
        if self._waiter is None or not self._outbox or self._write_now is None:
            return  # the writer is already at work (or woken to close): the outbox is its
        data = b"".join([f.frame if type(f) is SharedText else text_frame(f) for f in self._outbox])
        if self._write_now(data):
            self._outbox = []
            self._queued_bytes = 0
        else:
            self._wake()

    def end(self, ending: Ending) -> None:
        if self.ending is not None:
            return
        self.ending = ending
        if not ending.drain:
            self._outbox = []
            self._queued_bytes = 0
            if self.writer is not None:
                # Interrupted mid-write; it sends the close frame itself (see _write).
                self.writer.cancel()
                return
        # The writer closes once the outbox is written.
        self._wake()

    def heard(self) -> None:
        self.last_seen = time.monotonic()
        self.ping_sent_at = None

    def take_frames(self) -> list[str]:
        """Everything queued, in order, leaving the outbox empty."""
        frames, self._outbox = self._outbox, []
        self._queued_bytes = 0
        return frames

    def allow_client_event(self) -> bool:
        """Counts a client event in this second's window; False past the app's rate."""
        window = int(time.monotonic())
        if window != self._window:
            self._window = window
            self._client_events = 0
        self._client_events += 1
        return self._client_events <= self.app.limits.max_client_events_per_second

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def _write(self) -> None:
        send = self._send
        assert send is not None
        loop = asyncio.get_running_loop()
        try:
            while self._outbox or self.ending is None:
                if not self._outbox:
                    self._waiter = loop.create_future()
                    await self._waiter
                    continue
                frames = self.take_frames()
                if self._raw_frames:
                    data = b"".join(
                        [f.frame if type(f) is SharedText else text_frame(f) for f in frames]
                    )
                    await send({"type": SEND_FRAMES, "bytes": data})
                    continue
                for frame in frames:
                    await send({"type": "websocket.send", "text": frame})
            ending = self.ending
            if ending is not None and ending is not CLIENT_LEFT:
                await self._close(send, ending)
        except asyncio.CancelledError:
            # Cancelled by an ending that drops the queue (a slow client): it still gets
            # its close frame. A departure or the server's shutdown cancels for good.
            cut = self.ending
            if cut is None or cut is CLIENT_LEFT or cut.drain:
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            await self._close(send, cut)
        except Exception as failure:  # the client is gone (OSError, ClientDisconnected)
            log.debug("could not write to a Pusher socket: %r", failure)

    async def _close(self, send: Send, ending: Ending) -> None:
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                if ending.error is not None:
                    await send({"type": "websocket.send", "text": ending.error})
                await send(
                    {"type": "websocket.close", "code": ending.code, "reason": ending.reason}
                )
        except TimeoutError:
            # The client takes nothing more: stop reading it too, so that it leaves its
            # channels now rather than when the transport notices.
            if self._reader is not None and not self._reader.done():
                self._reader.cancel()
        except Exception as failure:  # gone already
            log.debug("could not close a Pusher socket: %r", failure)
