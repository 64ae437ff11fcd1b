"""Frame makers for surfaces whose every message is one JSON document (the device gateway,
/api/v1/ws, and later Pusher): the standard mix a new JSON surface starts from."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from tests.fuzz.encodings import to_json
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
from tests.fuzz.odd_values import mutated

JSON_ALPHABET = '{}[]":,0123456789.eE+- \\utrfalsn\x00\x1e'


def value_mutated(seeds: Sequence[Any], text: bool = True) -> FrameMaker:
    """A well-formed message with one field of the wrong type, too big, missing or extra."""

    def make(rng: random.Random) -> Frame:
        return Frame(to_json(mutated(rng, rng.choice(seeds))), text, "field mutated")

    return make


def huge_string(field: str, seed: dict[str, Any]) -> FrameMaker:
    """`seed` with `field` a string long enough to bring the message to the frame limit."""

    def encode(size: int) -> bytes:
        shell = to_json({**seed, field: ""})
        return to_json({**seed, field: "x" * max(0, size - len(shell))})

    return huge(encode, text=True)


def json_frames(seeds: Sequence[dict[str, Any]], long_field: str) -> FrameMaker:
    encoded = [to_json(seed) for seed in seeds]
    seed_frames = [Frame(data, True, "seed") for data in encoded]
    return preceded(
        seed_frames,
        fragmented(
            mix(
                (40, value_mutated(seeds)),
                (5, value_mutated(seeds, text=False)),
                (25, byte_mutated(encoded, text=True)),
                (5, byte_mutated(encoded, text=False)),
                (10, random_characters(JSON_ALPHABET)),
                (5, random_bytes(text=True)),
                (5, random_bytes(text=False)),
                (1, huge_string(long_field, seeds[0])),
            ),
        ),
    )
