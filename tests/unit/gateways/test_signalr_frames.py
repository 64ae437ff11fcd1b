"""SignalR frame parsing: any bytes or text a client sends end in a ProtocolError at worst."""

from __future__ import annotations

import contextlib
import random

import msgpack
import pytest

from gateways.signalr import messagepack, protocol
from gateways.signalr.protocol import MessageType, ProtocolError

SUBSCRIBE = messagepack.frame([MessageType.INVOCATION, {}, "1", "Subscribe", [["1", "2"]]])


def test_a_messagepack_invocation_reads_as_the_json_protocol_does() -> None:
    (message,) = messagepack.parse_frames(SUBSCRIBE + messagepack.frame([MessageType.PING]))[:1]
    assert message == {
        "type": MessageType.INVOCATION,
        "invocationId": "1",
        "target": "Subscribe",
        "arguments": [["1", "2"]],
    }


@pytest.mark.parametrize(
    "data",
    [
        b"\x80",  # a length prefix that never ends
        b"\xff\xff\xff\xff\xff\x01",  # longer than 5 bytes
        b"\x05\x01",  # shorter than its prefix
        b"\x01\xc1",  # 0xc1 is never used in MessagePack
        bytes([3]) + msgpack.packb({"type": 1}),  # a map, not an array
        bytes([2]) + msgpack.packb([]),  # an empty array
        bytes([2]) + msgpack.packb([99]),  # an unknown message type
    ],
)
def test_malformed_messagepack_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        messagepack.parse_frames(data)


def test_random_and_mutated_messagepack_frames_never_raise_anything_else() -> None:
    rng = random.Random(4)
    for n in range(20_000):
        if n % 2:
            data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
        else:
            mutated = bytearray(SUBSCRIBE)
            for _ in range(rng.randint(1, 4)):
                mutated[rng.randrange(len(mutated))] = rng.getrandbits(8)
            data = bytes(mutated)
        with contextlib.suppress(ProtocolError):
            messagepack.parse_frames(data)


def test_random_json_records_never_raise_anything_else() -> None:
    rng = random.Random(5)
    alphabet = '{}[]":,1a\x1e \\'
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        with contextlib.suppress(ProtocolError):
            protocol.parse_frames(text)


def test_close_messages_carry_allow_reconnect_in_both_protocols() -> None:
    assert protocol.close(None, allow_reconnect=True) == '{"type":7,"allowReconnect":true}\x1e'
    data = messagepack.close(None, allow_reconnect=True)
    assert msgpack.unpackb(data[1:]) == [MessageType.CLOSE, None, True]
