"""Odd values for a frame's fields, and well-formed messages with one field made odd.

Values are plain Python (dict, list, str, int, float, bool, None, bytes) plus two markers
that no encoder library writes on its own: `Nested` (nesting deeper than json/msgpack
encoders go) and `Token` (a literal the format's grammar may not even allow, such as NaN
or a 5,000-digit number in JSON, or a MessagePack ext type).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import msgpack


@dataclass(frozen=True)
class Nested:
    """`depth` arrays (or single-key maps) around `inner`."""

    depth: int
    maps: bool = False
    inner: Any = None


@dataclass(frozen=True)
class Token:
    """A literal written as is: `json` in JSON text, `msgpack` in MessagePack (None: no such
    literal in that format, the encoder writes null)."""

    json: bytes | None
    msgpack: bytes | None


ODD_NUMBERS: tuple[int | float, ...] = (
    0,
    -1,
    1,
    2,
    7,
    2**31,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64 - 1,
    -(2**63),
    1e308,
    -1e308,
    5e-324,
    -0.0,
    0.5,
    1.0,
    2.0,
)

ODD_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "\x1e",
    "\n",
    "\ufeff",
    "\U0010ffff",
    "٣",  # an Arabic-Indic digit: str.isdigit says yes, int() too, a protocol should not
    "²",  # str.isdigit says yes, int() says no
    "1",
    "2",
    " 1 ",
    "-1",
    "1e400",
    "NaN",
    "Infinity",
    "null",
    "PING",
    "THERMOSTAT_REPORT",
    "DEVICE_AUTH_RESPONSE",
    "Subscribe",
    "%s%n%x",
    "{}",
    "[]",
    "\\u0000",
    "../../etc/passwd",
    "'; DROP TABLE events; --",
)

JSON_TOKENS: tuple[Token, ...] = (
    Token(b"NaN", msgpack.packb(float("nan"))),
    Token(b"Infinity", msgpack.packb(float("inf"))),
    Token(b"-Infinity", msgpack.packb(float("-inf"))),
    Token(b"1e400", b"\xca\x7f\x80\x00\x00"),  # float32 infinity
    Token(b"-1e400", b"\xca\xff\x80\x00\x00"),
    Token(b"9" * 5000, b"\xcf" + b"\xff" * 8),  # uint64 max
    Token(b"-" + b"9" * 5000, b"\xd3\x80" + b"\x00" * 7),  # int64 min
    Token(b"1E-400", b"\xcb" + b"\x00" * 7 + b"\x01"),  # a denormal double
    Token(b'"\\ud800"', b"\xa3\xed\xa0\x80"),  # a lone surrogate (CESU-8 in MessagePack)
    Token(b'"\\u0000"', b"\xa1\x00"),
    Token(b'"\xff"', b"\xa2\xc3\x28"),  # invalid UTF-8 inside a string
    Token(b"01", b"\xd4\x01\x00"),  # fixext 1
    Token(b"+1", b"\xd5\x7f\x00\x00"),  # fixext 2, type 127
    Token(b".5", b"\xd6\xff\x00\x00\x00\x00"),  # timestamp 32 (ext -1)
    Token(b"0x10", b"\xd7\xff" + b"\xff" * 8),  # timestamp 64 with nanoseconds out of range
    Token(b"True", b"\xc7\x0c\xff" + b"\xff" * 12),  # timestamp 96, nanoseconds out of range
    Token(b"nul", b"\xc7\x03\xff\x00\x00\x00"),  # a timestamp of a length it cannot have
    Token(b"[1,]", b"\xc8\x00\x05\x10abcde"),  # ext 16
    Token(b"{,}", b"\xc4\x03abc"),  # bin 8
    Token(b'{"a":1,"a":2}', b"\x82\xa1a\x01\xa1a\x02"),  # a key twice
    Token(b"[1 2]", b"\x81\x01\x02"),  # a map with an integer key
    Token(b"'x'", b"\x81\x91\x01\x02"),  # a map with an array as its key
    Token(b"[", b"\xdc\xff\xff"),  # an array announcing 65535 items that are not there
    Token(b"", b"\xc1"),  # nothing at all; the one byte MessagePack never uses
)


def odd_value(rng: random.Random, depth: int = 0) -> Any:
    """Something a field should not hold, or should hold with care."""
    kind = rng.randrange(11 if depth < 2 else 7)
    if kind == 0:
        return rng.choice((None, True, False))
    if kind == 1:
        return rng.choice(ODD_NUMBERS)
    if kind == 2:
        return rng.choice((rng.getrandbits(64) - 2**63, rng.randint(-10_000, 10_000)))
    if kind == 3:
        return rng.choice(ODD_STRINGS)
    if kind == 4:
        return random_text(rng, rng.randint(0, 40))
    if kind == 5:
        return rng.choice(JSON_TOKENS)
    if kind == 6:
        return "x" * rng.choice((256, 4096, 65_537))
    if kind == 7:
        return Nested(
            rng.choice((64, 200, 255, 256, 500, 999, 1000, 1023, 1024, 1025, 5000)),
            maps=rng.random() < 0.3,
            inner=odd_value(rng, depth + 1),
        )
    if kind == 8:
        return [odd_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == 9:
        return {odd_key(rng): odd_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return rng.randbytes(rng.randint(0, 16))


def odd_key(rng: random.Random) -> str:
    return rng.choice(("type", "", "__proto__", "constructor", "a" * 300, *ODD_STRINGS[:8]))


def random_text(rng: random.Random, length: int) -> str:
    """Any code points but lone surrogates (which no UTF-8 encoder writes)."""
    chars = []
    for _ in range(length):
        plane = rng.random()
        if plane < 0.5:
            chars.append(chr(rng.randint(0, 0x7F)))
        elif plane < 0.9:
            chars.append(chr(rng.choice((rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0xFFFF)))))
        else:
            chars.append(chr(rng.randint(0x10000, 0x10FFFF)))
    return "".join(chars)


def mutated(rng: random.Random, seed: Any) -> Any:
    """A copy of a well-formed message with one node replaced, removed or added."""
    paths = list(_paths(seed, ()))
    path = rng.choice(paths)
    action = rng.randrange(4) if path else 0
    if action == 0 or not path:
        return _replace(seed, path, odd_value(rng))
    container_path, last = path[:-1], path[-1]
    container = _at(seed, container_path)
    if action == 1:  # remove the node
        if isinstance(container, dict):
            copy: Any = {k: v for k, v in container.items() if k != last}
        else:
            copy = container[:last] + container[last + 1 :]
        return _replace(seed, container_path, copy)
    if action == 2:  # add a sibling
        if isinstance(container, dict):
            copy = {**container, odd_key(rng): odd_value(rng)}
        else:
            copy = [*container, odd_value(rng)]
        return _replace(seed, container_path, copy)
    # wrap the node in a list: the right value with the wrong shape
    return _replace(seed, path, [_at(seed, path)])


def _paths(value: Any, prefix: tuple[Any, ...]) -> Any:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(value[head], rest, new)
    return copy
