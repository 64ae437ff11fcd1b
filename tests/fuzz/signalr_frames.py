"""Frame makers for SignalR's hub protocols (aspnetcore src/SignalR/docs/specs/HubProtocol.md):
JSON records ended by the record separator 0x1E, and MessagePack messages behind a varint
length; well-formed seeds of every message type, mutated in their fields and in their framing.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from tests.fuzz.encodings import (
    RECORD_SEPARATOR,
    signalr_json_records,
    signalr_messagepack_messages,
    to_json,
    to_msgpack,
    varint,
)
from tests.fuzz.frames import (
    Frame,
    FrameMaker,
    byte_mutated,
    fragmented,
    huge,
    mix,
    preceded,
    random_bytes,
    random_characters,
)
from tests.fuzz.json_frames import JSON_ALPHABET
from tests.fuzz.odd_values import mutated

HANDSHAKES: list[dict[str, Any]] = [
    {"protocol": "json", "version": 1},
    {"protocol": "messagepack", "version": 1},
    {"protocol": "json", "version": 0},
]

# One of each message type a client may send, as HubProtocol.md shows them.
JSON_MESSAGES: list[dict[str, Any]] = [
    {"type": 1, "invocationId": "1", "target": "Subscribe", "arguments": [["1", "2"]]},
    {"type": 1, "target": "Unsubscribe", "arguments": [[2]]},
    {
        "type": 1,
        "invocationId": "2",
        "target": "Subscribe",
        "arguments": [["1"]],
        "streamIds": ["s1"],
        "headers": {"k": "v"},
    },
    {"type": 2, "invocationId": "s1", "item": 1},
    {"type": 3, "invocationId": "3", "result": 1},
    {"type": 3, "invocationId": "4", "error": "no"},
    {"type": 4, "invocationId": "5", "target": "Subscribe", "arguments": []},
    {"type": 5, "invocationId": "5"},
    {"type": 6},
    {"type": 7, "error": "bye", "allowReconnect": True},
]

# The same messages, positional as MessagePack writes them.
MESSAGEPACK_MESSAGES: list[list[Any]] = [
    [1, {}, "1", "Subscribe", [["1", "2"]]],
    [1, {}, None, "Unsubscribe", [[2]], []],
    [1, {"k": "v"}, "2", "Subscribe", [["1"]], ["s1"]],
    [2, {}, "s1", 1],
    [3, {}, "3", 3, 1],
    [3, {}, "4", 1, "no"],
    [3, {}, "6", 2],
    [4, {}, "5", "Subscribe", [], []],
    [5, {}, "5"],
    [6],
    [7, "bye", True],
]


def _records_mutated(seeds: Sequence[Any], text: bool = True) -> FrameMaker:
    """One to three records, most with a field mutated."""

    def make(rng: random.Random) -> Frame:
        messages = [
            mutated(rng, seed) if rng.random() < 0.8 else seed
            for seed in rng.choices(seeds, k=rng.choice((1, 1, 1, 2, 3)))
        ]
        return Frame(signalr_json_records(*messages), text, "records, fields mutated")

    return make


def _separators_mutated(seeds: Sequence[Any]) -> FrameMaker:
    """Well-formed records with the record separators wrong."""

    def make(rng: random.Random) -> Frame:
        records = [to_json(seed) for seed in rng.choices(seeds, k=rng.randint(1, 3))]
        joined = RECORD_SEPARATOR.join(records)
        action = rng.randrange(8)
        if action == 0:
            data, how = joined, "no final separator"
        elif action == 1:
            data, how = joined + RECORD_SEPARATOR * rng.randint(2, 5), "separators repeated"
        elif action == 2:
            data, how = RECORD_SEPARATOR * rng.randint(1, 200), "only separators"
        elif action == 3:
            data, how = RECORD_SEPARATOR + joined + RECORD_SEPARATOR, "a leading separator"
        elif action == 4:
            at = rng.randint(0, len(joined))
            data = joined[:at] + RECORD_SEPARATOR + joined[at:] + RECORD_SEPARATOR
            how = "a separator inside a record"
        elif action == 5:
            data = (records[0] + RECORD_SEPARATOR) * rng.choice((50, 500))
            how = "many records in one frame"
        elif action == 6:
            data = records[0].replace(b'"', b'"\x1e', 1) + RECORD_SEPARATOR
            how = "a raw separator inside a string"
        else:
            data = joined.replace(b",", b"\r\n,") + b"\n" + RECORD_SEPARATOR
            how = "line breaks around records"
        return Frame(data, True, how)

    return make


def _huge_record(seed: dict[str, Any]) -> FrameMaker:
    def encode(size: int) -> bytes:
        shell = signalr_json_records({**seed, "target": ""})
        return signalr_json_records({**seed, "target": "x" * max(0, size - len(shell))})

    return huge(encode, text=True)


def handshake_frames() -> FrameMaker:
    encoded = [signalr_json_records(seed) for seed in HANDSHAKES]
    return fragmented(
        mix(
            (40, _records_mutated(HANDSHAKES)),
            (5, _records_mutated(HANDSHAKES, text=False)),
            (15, _separators_mutated(HANDSHAKES)),
            (20, byte_mutated(encoded, text=True)),
            (10, random_characters(JSON_ALPHABET)),
            (5, random_bytes(text=True)),
            (5, random_bytes(text=False)),
        )
    )


def json_hub_frames() -> FrameMaker:
    encoded = [signalr_json_records(seed) for seed in JSON_MESSAGES]
    seed_frames = [Frame(data, True, "seed") for data in encoded]
    return preceded(
        seed_frames,
        fragmented(
            mix(
                (40, _records_mutated(JSON_MESSAGES)),
                (5, _records_mutated(JSON_MESSAGES, text=False)),
                (15, _separators_mutated(JSON_MESSAGES)),
                (20, byte_mutated(encoded, text=True)),
                (8, random_characters(JSON_ALPHABET)),
                (4, random_bytes(text=True)),
                (4, random_bytes(text=False)),
                (1, _huge_record(JSON_MESSAGES[0])),
            ),
        ),
    )


def _messages_mutated(rng: random.Random) -> Frame:
    messages = [
        mutated(rng, seed) if rng.random() < 0.8 else seed
        for seed in rng.choices(MESSAGEPACK_MESSAGES, k=rng.choice((1, 1, 1, 2, 3)))
    ]
    return Frame(signalr_messagepack_messages(*messages), False, "messages, fields mutated")


def _lengths_mutated(rng: random.Random) -> Frame:
    """Well-formed MessagePack behind a wrong, overlong or cut length prefix."""
    body = to_msgpack(rng.choice(MESSAGEPACK_MESSAGES))
    action = rng.randrange(7)
    if action == 0:
        data, how = varint(len(body) + rng.randint(1, 100)) + body, "a prefix too long"
    elif action == 1:
        data, how = varint(max(0, len(body) - rng.randint(1, 5))) + body, "a prefix too short"
    elif action == 2:
        data, how = varint(2**35 - 1) + body, "a 5-byte prefix past the frame"
    elif action == 3:
        data, how = b"\xff" * rng.randint(5, 9) + b"\x01" + body, "a prefix over 5 bytes"
    elif action == 4:
        data, how = b"\x80" * rng.randint(1, 4), "a prefix that never ends"
    elif action == 5:
        data, how = (varint(len(body)) + body) * rng.choice((50, 500)), "many messages"
    else:
        data, how = b"\x00" * rng.randint(1, 20) + varint(len(body)) + body, "empty messages"
    return Frame(data, False, how)


def _huge_message(size: int) -> bytes:
    target = "x" * max(0, size - 40)
    return signalr_messagepack_messages([1, {}, "1", target, [["1"]]])


def messagepack_hub_frames() -> FrameMaker:
    encoded = [signalr_messagepack_messages(seed) for seed in MESSAGEPACK_MESSAGES]
    seed_frames = [Frame(data, False, "seed") for data in encoded]
    return preceded(
        seed_frames,
        fragmented(
            mix(
                (45, _messages_mutated),
                (15, _lengths_mutated),
                (25, byte_mutated(encoded, text=False)),
                (8, random_bytes(text=False)),
                (3, random_bytes(text=True)),
                (3, byte_mutated(encoded, text=True)),
                (1, huge(_huge_message, text=False)),
            ),
        ),
    )
