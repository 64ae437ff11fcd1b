"""SignalR's MessagePack hub protocol: binary hub messages fuzzed on SENZ's live hub."""

from __future__ import annotations

from tests.e2e.conftest import Stack
from tests.fuzz.conftest import frames
from tests.fuzz.encodings import signalr_messagepack_messages
from tests.fuzz.frame_fuzzer import FrameFuzzer, Surface
from tests.fuzz.frames import Frame
from tests.fuzz.odd_values import Nested
from tests.fuzz.signalr_frames import messagepack_hub_frames
from tests.fuzz.signalr_sessions import (
    SIGNALR_CLOSE_CODES,
    answers_messagepack_probe,
    messagepack_probe,
    notified,
    session,
)

# Frames that found defects, kept as they were found.
FOUND = [
    # A client's Close message ended the session without a close frame (TCP just dropped).
    Frame(signalr_messagepack_messages([7, None, False]), False, "Close"),
    # Quoting a 1,000-deep target in "Unknown hub method" raised RecursionError.
    Frame(signalr_messagepack_messages([1, {}, "1", Nested(1000), []]), False, "deep target"),
    # The MessagePack [[inf]] of issue 9 (fixed before the fuzzer; kept as its seed).
    Frame(
        signalr_messagepack_messages([1, {}, "1", "Subscribe", [[float("inf")]]]),
        False,
        "Subscribe([inf])",
    ),
]


def hub_surface(stack: Stack, account: dict[str, str]) -> Surface:
    return Surface(
        "SignalR MessagePack",
        connect=lambda: session(stack, account["token"], "messagepack"),
        well_behaved=lambda: notified(stack, account),
        close_codes=SIGNALR_CLOSE_CODES,
        probe=messagepack_probe,
        is_probe_answer=answers_messagepack_probe,
    )


def test_messagepack_hub_frames(
    fuzzed: Stack, fuzzer: FrameFuzzer, senz_account: dict[str, str]
) -> None:
    surface = hub_surface(fuzzed, senz_account)
    print(dict(fuzzer.run(surface, messagepack_hub_frames(), frames(500))))


def test_frames_that_found_defects(
    fuzzed: Stack, fuzzer: FrameFuzzer, senz_account: dict[str, str]
) -> None:
    fuzzer.replay(hub_surface(fuzzed, senz_account), FOUND)
