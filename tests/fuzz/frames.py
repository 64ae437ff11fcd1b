"""Websocket messages for fuzzing: random ones, and well-formed ones mutated.

A `FrameMaker` turns a random.Random into one `Frame`. Frame i of a run is made from
random.Random(f"{seed}:{i}") alone, so a failure names the seed and the index, and that
frame can be made again without replaying the run.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from infra.settings import Settings

# The server's default: a message over it is closed with 1009.
FRAME_LIMIT = Settings.max_websocket_message_bytes

INVALID_UTF8: tuple[bytes, ...] = (
    b"\xff",
    b"\xc0\x80",  # an overlong NUL
    b"\xed\xa0\x80",  # a UTF-16 surrogate written as UTF-8
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\xe2\x82",  # a sequence cut short
    b"\x80",  # a continuation byte alone
)


@dataclass(frozen=True)
class Frame:
    """One websocket message: any bytes, sent as a text frame (valid UTF-8 or not) or a
    binary frame, in one frame or in `fragments` continuation frames."""

    data: bytes
    text: bool
    how: str
    fragments: int = 1
    # Well-formed messages written in the same TCP write just before this one, so the
    # server reads them together (a message it still answers, then a bad one).
    preceded_by: tuple[Frame, ...] = ()

    def chunks(self) -> list[bytes]:
        size = -(-len(self.data) // self.fragments) or 1
        return [self.data[i : i + size] for i in range(0, len(self.data), size)] or [b""]

    def shown(self, limit: int = 400) -> str:
        kind = "text" if self.text else "binary"
        head = repr(self.data[:limit]) + (" …" if len(self.data) > limit else "")
        size = f"{len(self.data)} bytes in {self.fragments} fragment(s)"
        shown = f"{kind} frame, {size}, {self.how}: {head}"
        before = "".join(f"after {frame.shown(80)}\n" for frame in self.preceded_by)
        return before + shown


FrameMaker = Callable[[random.Random], Frame]


def made(seed: int, count: int, maker: FrameMaker) -> Iterator[tuple[int, Frame]]:
    for index in range(count):
        yield index, maker(random.Random(f"{seed}:{index}"))


def mix(*weighted: tuple[float, FrameMaker]) -> FrameMaker:
    """One of the makers, chosen by weight."""
    weights = [weight for weight, _ in weighted]
    makers = [maker for _, maker in weighted]

    def make(rng: random.Random) -> Frame:
        return rng.choices(makers, weights)[0](rng)

    return make


def fragmented(maker: FrameMaker, probability: float = 0.1) -> FrameMaker:
    """Sometimes split the message into continuation frames (cutting through UTF-8 too)."""

    def make(rng: random.Random) -> Frame:
        frame = maker(rng)
        if rng.random() >= probability or len(frame.data) < 2:
            return frame
        pieces = rng.randint(2, min(8, len(frame.data)))
        return Frame(frame.data, frame.text, f"{frame.how}, fragmented", pieces)

    return make


def preceded(first: Sequence[Frame], maker: FrameMaker, probability: float = 0.15) -> FrameMaker:
    """Sometimes write a well-formed message just before the frame, in the same TCP write."""

    def make(rng: random.Random) -> Frame:
        frame = maker(rng)
        if rng.random() >= probability:
            return frame
        return replace(frame, preceded_by=(rng.choice(first),))

    return make


def random_bytes(text: bool, longest: int = 64) -> FrameMaker:
    def make(rng: random.Random) -> Frame:
        return Frame(rng.randbytes(rng.randint(0, longest)), text, "random bytes")

    return make


def random_characters(alphabet: str, text: bool = True, longest: int = 48) -> FrameMaker:
    """Characters drawn from a format's own syntax, so the parser gets past its first byte."""

    def make(rng: random.Random) -> Frame:
        chosen = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))
        return Frame(chosen.encode(), text, "random characters")

    return make


def huge(encode: Callable[[int], bytes], text: bool) -> FrameMaker:
    """A message at, or just past, the frame limit."""

    def make(rng: random.Random) -> Frame:
        target = FRAME_LIMIT + rng.choice((-4096, -64, 1, 4096))
        return Frame(encode(target), text, f"huge ({target} bytes asked)")

    return make


def byte_mutated(seeds: Sequence[bytes], text: bool) -> FrameMaker:
    """A well-formed message with its bytes damaged: cut, flipped, spliced, repeated."""

    def make(rng: random.Random) -> Frame:
        data = bytearray(rng.choice(seeds))
        how = []
        for _ in range(rng.randint(1, 3)):
            action = rng.randrange(7)
            at = rng.randint(0, len(data))
            if action == 0:
                data = data[: rng.randint(0, len(data))]
                how.append("truncated")
            elif action == 1 and data:
                data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
                how.append("bit flipped")
            elif action == 2:
                data[at:at] = rng.randbytes(rng.randint(1, 8))
                how.append("bytes inserted")
            elif action == 3:
                data[at:at] = rng.choice(INVALID_UTF8)
                how.append("invalid UTF-8 inserted")
            elif action == 4:
                del data[at : at + rng.randint(1, 8)]
                how.append("bytes deleted")
            elif action == 5:
                data += rng.choice(seeds)
                how.append("another message appended")
            else:
                end = rng.randint(at, len(data))
                data[at:at] = data[at:end] * rng.randint(2, 20)
                how.append("span repeated")
        return Frame(bytes(data), text, "seed " + ", ".join(how))

    return make
