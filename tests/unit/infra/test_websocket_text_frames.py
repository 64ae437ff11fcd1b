"""Frames the fan-out encodes once for every socket read back as websockets' own would."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from gateways.pusher.connection import SharedText
from infra.transport.websocket_protocol import text_frame


def _parsed(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    raise AssertionError("incomplete frame")


# Each length encoding (7-bit, 16-bit, 64-bit) on both sides of its bound.
@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_a_text_frame_is_what_websockets_reads_and_writes(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    data = text_frame(text)
    frame = _parsed(data)
    assert (frame.opcode, frame.fin, bytes(frame.data).decode()) == (Opcode.TEXT, True, text)
    assert data == Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


def test_shared_text_is_the_text_with_its_frame() -> None:
    shared = SharedText('{"event":"e"}')
    assert shared == '{"event":"e"}' and isinstance(shared, str)
    assert shared.frame == text_frame('{"event":"e"}')
