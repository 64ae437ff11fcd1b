"""uvicorn's websockets (sans-I/O) protocol, answering what it leaves unanswered or shouts about.

- A handshake that websockets refuses (a request line or header line over its 8 KiB limit,
  too many headers) got no answer at all: websockets prepares the 414/431 but uvicorn only
  sends what follows a parsed request. It is sent here.
- A text message that is not UTF-8 was logged as an ERROR with a traceback; it is an INFO
  line here, and the connection is closed with 1007 (invalid data) as before.
- An upgrade the application refused with an HTTP response of its own (a 401, say) was
  logged as an ERROR ("returned without completing handshake"): the refusal completes it.
- A connection closed for a protocol error (a message over the size limit: 1009) was closed
  at once while the client was still sending, and the kernel's reset to that data threw
  away the close frame before the client read it. The close frame is now followed by our
  FIN and what the client still sends is read and dropped for up to LINGER_SECONDS (a
  lingering close, as web servers do), so the client learns why.
- A fan-out writes the same text to thousands of sockets: websockets' sans-I/O connection
  builds its frame again for each and uvicorn writes each frame on its own. An application
  that sees SEND_FRAMES in the scope's extensions may send {"type": SEND_FRAMES, "bytes":
  ...}: text frames it encoded itself (text_frame, once for every socket), written in one
  transport write after the same checks as a websocket.send (writable, still open).
  The extension's "write" is the same without the wait: it writes at once and answers True,
  or answers False where a send would wait (the transport is paused) or fail, so that a
  fan-out to idle sockets needs no task switch per socket.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

# How long a connection closed for a protocol error keeps reading (and dropping) what the
# client still sends, so that our close frame reaches it.
LINGER_SECONDS = 2.0

# The scope extension and message type of pre-encoded frames (see the module's docstring).
SEND_FRAMES = "hubline.websocket.send_frames"


def text_frame(text: str) -> bytes:
    """One unfragmented, unmasked text frame as a server sends it (RFC 6455 5.2)."""
    return _frame(0x81, text.encode())


def binary_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked binary frame as a server sends it."""
    return _frame(0x82, payload)


def _frame(first_byte: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        header = bytes((first_byte, size))
    elif size < 65536:
        header = bytes((first_byte, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((first_byte, 127)) + size.to_bytes(8, "big")
    return header + payload


class WebSocketProtocol(WebSocketsSansIOProtocol):
    _linger: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        if self._linger is not None:
            return  # closing after a protocol error: the rest is read only to be dropped
        if self.handshake_initiated:
            super().data_received(data)
            return
        self.conn.receive_data(data)
        if self.conn.handshake_exc is not None:
            self._answer_refused_handshake()
            return
        self.handle_events()

    def send_receive_event_to_app(self) -> None:
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return  # past websocket.close: reads stay active until the peer's close reply
        message: ASGIReceiveEvent
        if self.curr_msg_data_type == "text":
            try:
                message = {"type": "websocket.receive", "text": bytes(data).decode()}
            except UnicodeDecodeError as exc:
                self.logger.info(
                    "%s - closing a websocket that sent invalid UTF-8 (%s)", self._peer(), exc
                )
                self.conn.send_close(1007, "invalid UTF-8")
                self.handle_parser_exception()
                return
        else:
            message = {"type": "websocket.receive", "bytes": data}
        self.queue.put_nowait(message)
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()

    def handle_parser_exception(self) -> None:
        assert self.conn.close_sent is not None
        close = self.conn.close_sent
        self.queue.put_nowait(
            {"type": "websocket.disconnect", "code": close.code, "reason": close.reason}
        )
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._linger = asyncio.get_running_loop().call_later(LINGER_SECONDS, self.transport.close)
        # uvicorn closes the transport as soon as the application returns unless a close
        # timer is pending: the linger is that timer, or an application that returns at once
        # (it was told of the disconnect above) cuts the linger short and the reset loses
        # the close frame.
        self.close_timer = self._linger
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        # The application may still answer a message read in the same chunk as the bad
        # frame: it finds the connection gone (ClientDisconnected, a WebSocketDisconnect to
        # Starlette), not a RuntimeError logged as an ERROR with a traceback.
        self.disconnected = True

    def eof_received(self) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self.close_timer = None
            self.transport.close()  # the client has sent all it will: the linger is over

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger is not None:
            self._linger.cancel()
        super().connection_lost(exc)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # Frames encoded by the application are only right without extensions: a
        # compressed connection frames (and flags) every message itself.
        if not self.config.ws_per_message_deflate:
            self.scope["extensions"][SEND_FRAMES] = {"write": self.write_frames}

    async def send(self, message: ASGISendEvent) -> None:
        raw = cast(dict[str, Any], message)
        if raw["type"] == SEND_FRAMES:
            await self._send_frames(raw["bytes"])
            return
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body"):
            self.handshake_complete = True

    def write_frames(self, data: bytes) -> bool:
        """Writes pre-encoded frames now; False, writing nothing, where a send would wait."""
        if (
            not self.writable.is_set()
            or self.disconnected
            or self.close_sent
            or self.conn.state is not State.OPEN
            or not self.handshake_complete
            or self.initial_response is not None
        ):
            return False
        self.transport.write(data)
        return True

    async def _send_frames(self, data: bytes) -> None:
        await self.writable.wait()
        if self.disconnected or self.close_sent or self.conn.state is not State.OPEN:
            # What websocket.send does once the client or we began closing.
            raise ClientDisconnected()
        if not self.handshake_complete or self.initial_response is not None:
            raise RuntimeError(f"'{SEND_FRAMES}' before the websocket was accepted")
        self.transport.write(data)

    def _answer_refused_handshake(self) -> None:
        self.logger.info(
            "%s - refused a websocket handshake: %s", self._peer(), self.conn.handshake_exc
        )
        response = b"".join(self.conn.data_to_send())
        if not response:  # websockets only ends the stream when the request is unreadable
            response = (
                b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: 25\r\nconnection: close\r\n\r\nInvalid websocket request"
            )
        self.handshake_complete = True
        self.close_sent = True
        self.transport.write(response)
        self.transport.close()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "-"
