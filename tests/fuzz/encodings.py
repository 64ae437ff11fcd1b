"""Writing fuzzed values as JSON text or MessagePack, markers included, and SignalR's framing.

The standard encoders refuse what the fuzzer needs (NaN in JSON, 1,000-deep nesting, map
keys of any type), so both formats are written here, a node at a time.
"""

from __future__ import annotations

import json
from typing import Any

import msgpack

from tests.fuzz.odd_values import Nested, Token

RECORD_SEPARATOR = b"\x1e"


def to_json(value: Any) -> bytes:
    if isinstance(value, Nested):
        inner = to_json(value.inner)
        if value.maps:
            return b'{"a":' * value.depth + inner + b"}" * value.depth
        return b"[" * value.depth + inner + b"]" * value.depth
    if isinstance(value, Token):
        return value.json if value.json is not None else b"null"
    if isinstance(value, dict):
        items = (to_json(str(key)) + b":" + to_json(item) for key, item in value.items())
        return b"{" + b",".join(items) + b"}"
    if isinstance(value, list | tuple):
        return b"[" + b",".join(to_json(item) for item in value) + b"]"
    if isinstance(value, bytes):
        # JSON has no bytes: a string of them, whatever they are (invalid UTF-8 included).
        return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    # allow_nan: NaN and Infinity as Python writes them, which strict parsers refuse.
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def to_msgpack(value: Any) -> bytes:
    if isinstance(value, Nested):
        header = b"\x81\xa1a" if value.maps else b"\x91"
        return header * value.depth + to_msgpack(value.inner)
    if isinstance(value, Token):
        return value.msgpack if value.msgpack is not None else b"\xc0"
    if isinstance(value, dict):
        body = b"".join(to_msgpack(key) + to_msgpack(item) for key, item in value.items())
        return _header(len(value), 0x80, 0xDE) + body
    if isinstance(value, list | tuple):
        return _header(len(value), 0x90, 0xDC) + b"".join(to_msgpack(item) for item in value)
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def _header(count: int, fix: int, sized: int) -> bytes:
    if count < 16:
        return bytes([fix | count])
    if count < 2**16:
        return bytes([sized]) + count.to_bytes(2, "big")
    return bytes([sized + 1]) + count.to_bytes(4, "big")


def varint(length: int) -> bytes:
    """SignalR's MessagePack length prefix: 7 bits a byte, low bits first."""
    prefix = bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        prefix.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(prefix)


def signalr_json_records(*messages: Any) -> bytes:
    return b"".join(to_json(message) + RECORD_SEPARATOR for message in messages)


def signalr_messagepack_messages(*messages: Any) -> bytes:
    return b"".join(varint(len(body)) + body for body in map(to_msgpack, messages))
