"""Send made frames to a live websocket surface and check what the server does with each.

For every frame: no unhandled exception and no ERROR line in the server's log; the
connection answers (a well-formed probe sent after the frame is answered) or closes with a
close frame whose code the surface allows. After the burst, a well-behaved client of the
same server is still served.

A surface joins with a `Surface`: how to open a connection ready for frames, a probe and
how to recognise its answer, and what a well-behaved client does. See the test modules
beside this one.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame as WireFrame
from websockets.frames import Opcode
from websockets.sync.client import ClientConnection, connect

from tests.fuzz.frames import Frame, FrameMaker, made

# The websocket layer's own refusals: a protocol violation, a text frame that is not
# UTF-8, a message over the frame limit.
WEBSOCKET_CLOSE_CODES = frozenset({1002, 1007, 1009})
ANSWER_SECONDS = 15.0
_ERROR_LINE = re.compile(
    rb"^(?:\S+ \S+ )?(?:ERROR|CRITICAL)\b.*$|^Traceback \(most recent call last\):$", re.M
)


@dataclass
class Surface:
    name: str
    # A connection ready for the frames under test (authenticated, past any handshake).
    connect: Callable[[], ClientConnection]
    # Another client doing what it should, asserting it is served; run after each burst.
    well_behaved: Callable[[], None]
    close_codes: Collection[int] = WEBSOCKET_CLOSE_CODES
    # Sent after each frame; its answer shows the frame was read and the session goes on.
    # Without a probe the server must close the connection after every frame.
    probe: Callable[[int], Frame] | None = None
    is_probe_answer: Callable[[str | bytes, int], bool] = lambda message, index: True
    # Every frame gets exactly one answer of its own before the probe's.
    answers_every_frame: bool = False
    # Each frame is the first thing said on a fresh connection (handshakes, challenges).
    one_frame_per_connection: bool = False
    # Without a probe: the server speaks on its own (the OpenShock hub gateway's Pings), and
    # a message `is_probe_answer` accepts shows the session goes on after the frame.
    speaks_unasked: bool = False


def open_websocket(url: str, **options: Any) -> ClientConnection:
    """A client connection held across frames (so not in a `with` block), that receives
    answers of any size (a server may echo a field of a huge frame)."""
    # Entering is what websockets 17 asks of a connection not opened with `with`.
    # No keep-alive pings: frames are written to the socket beside the library.
    connection: ClientConnection = connect(
        url, open_timeout=10, max_size=None, ping_interval=None, **options
    ).__enter__()
    return connection


class ServerLog:
    def __init__(self, path: Path) -> None:
        self._path = path

    def mark(self) -> int:
        return self._path.stat().st_size

    def errors_since(self, mark: int) -> list[str]:
        with self._path.open("rb") as log:
            log.seek(mark)
            text = log.read()
        return [line.decode(errors="replace") for line in _ERROR_LINE.findall(text)]

    def since(self, mark: int, limit: int = 6000) -> str:
        with self._path.open("rb") as log:
            log.seek(mark)
            return log.read()[-limit:].decode(errors="replace")


class FrameRejected(AssertionError):
    """The server mishandled one frame."""


@dataclass
class FrameFuzzer:
    """Runs bursts of frames against one server; `seed` makes every run the same."""

    log: ServerLog
    seed: int
    server_alive: Callable[[], bool]

    def run(self, surface: Surface, maker: FrameMaker, count: int) -> Counter[str]:
        """Send `count` frames made from the seed; returns how the server took them."""
        return self.send(surface, made(self.seed, count, maker), f"HUBLINE_FUZZ_SEED={self.seed}")

    def replay(self, surface: Surface, frames: Sequence[Frame]) -> Counter[str]:
        """Send frames that once found a defect, through the same checks."""
        return self.send(surface, enumerate(frames), "frames that once found a defect")

    def send(
        self, surface: Surface, frames: Iterable[tuple[int, Frame]], source: str
    ) -> Counter[str]:
        outcomes: Counter[str] = Counter()
        connection: ClientConnection | None = None
        start = self.log.mark()
        try:
            for index, frame in frames:
                mark = self.log.mark()
                try:
                    connection, outcome = self._exchange(surface, connection, index, frame)
                    outcomes[outcome] += 1
                    errors = self.log.errors_since(mark)
                    if errors:
                        raise FrameRejected("the server logged:\n" + "\n".join(errors[:5]))
                except AssertionError as failure:
                    raise FrameRejected(
                        f"{surface.name}: frame {index} of {source}: {failure}\n"
                        f"frame: {frame.shown()}\n"
                        f"server log since:\n{self.log.since(mark, 3000)}"
                    ) from None
        finally:
            if connection is not None:
                connection.close()
        surface.well_behaved()
        assert self.server_alive(), f"the server exited:\n{self.log.since(start)}"
        errors = self.log.errors_since(start)
        assert not errors, f"{surface.name}: the server logged:\n" + "\n".join(errors[:10])
        return outcomes

    def _exchange(
        self, surface: Surface, connection: ClientConnection | None, index: int, frame: Frame
    ) -> tuple[ClientConnection | None, str]:
        if connection is None:
            connection = surface.connect()
        probe = surface.probe(index) if surface.probe is not None else None
        # One write: the server may read the frame and the probe together. If the server
        # already closed the connection, how it did is read below.
        with contextlib.suppress(OSError):
            _write(connection, *frame.preceded_by, frame, *([probe] if probe else []))
        answers = 0
        while True:
            try:
                message = connection.recv(timeout=ANSWER_SECONDS)
            except TimeoutError:
                connection.close()
                raise FrameRejected(
                    f"neither answered nor closed within {ANSWER_SECONDS} s"
                    f" ({answers} message(s) before)"
                ) from None
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else None
                if code not in surface.close_codes:
                    raise FrameRejected(
                        f"closed with {code} ({closed}); expected a close frame with one of"
                        f" {sorted(surface.close_codes)}"
                    ) from None
                return None, f"closed {code}"
            answers += 1
            if probe is None and not surface.speaks_unasked:
                continue  # the server must close; read until it does
            own_answer = surface.answers_every_frame and answers <= 1 + len(frame.preceded_by)
            if not own_answer and surface.is_probe_answer(message, index):
                if surface.one_frame_per_connection:
                    connection.close()
                    connection = None
                return connection, "answered"


def _write(connection: ClientConnection, *frames: Frame) -> None:
    """Straight to the socket, as a client library would not: any bytes in a text frame,
    fragments, several messages in one TCP write."""
    wire = []
    for frame in frames:
        chunks = frame.chunks()
        for number, chunk in enumerate(chunks):
            opcode = Opcode.CONT if number else Opcode.TEXT if frame.text else Opcode.BINARY
            fin = number == len(chunks) - 1
            wire.append(WireFrame(opcode, chunk, fin).serialize(mask=True))
    connection.socket.sendall(b"".join(wire))
