"""SignalR's JSON hub protocol: handshakes and hub messages fuzzed on SENZ's live hub."""

from __future__ import annotations

from tests.e2e.conftest import Stack
from tests.fuzz.conftest import frames
from tests.fuzz.frame_fuzzer import FrameFuzzer, Surface
from tests.fuzz.frames import Frame
from tests.fuzz.signalr_frames import handshake_frames, json_hub_frames
from tests.fuzz.signalr_sessions import (
    SIGNALR_CLOSE_CODES,
    answers_json_probe,
    json_probe,
    notified,
    session,
    unshaken,
)

DEEP = b"[" * 1000 + b"]" * 1000

# Frames that found defects, kept as they were found.
FOUND_IN_HANDSHAKES = [
    # Quoting a 1,000-deep protocol name or version in the handshake error raised
    # RecursionError: a traceback, and the socket dropped without a close frame.
    Frame(b'{"protocol":' + DEEP + b',"version":1}\x1e', True, "deep protocol"),
    Frame(b'{"protocol":"json","version":' + DEEP + b"}\x1e", True, "deep version"),
]
FOUND_IN_MESSAGES = [
    # A client's Close message ended the session without a close frame (TCP just dropped).
    Frame(b'{"type":7,"error":"bye"}\x1e', True, "Close"),
    # Quoting a 1,000-deep target in "Unknown hub method" raised RecursionError.
    Frame(
        b'{"type":1,"invocationId":"1","target":' + DEEP + b',"arguments":[]}\x1e',
        True,
        "deep target",
    ),
    # A message the server still answers, then invalid UTF-8 in the same read: the answer
    # to the first raised RuntimeError (sent after the transport closed with 1007).
    json_probe(-1),  # so that the server waits in receive when the next two arrive
    Frame(b"\xff", True, "invalid UTF-8", preceded_by=(json_probe(-2),)),
]


def handshake_surface(stack: Stack, account: dict[str, str]) -> Surface:
    return Surface(
        "SignalR handshake",
        connect=lambda: unshaken(stack, account["token"]),
        well_behaved=lambda: notified(stack, account),
        close_codes=SIGNALR_CLOSE_CODES,
        probe=json_probe,
        is_probe_answer=answers_json_probe,
        one_frame_per_connection=True,
    )


def hub_surface(stack: Stack, account: dict[str, str]) -> Surface:
    return Surface(
        "SignalR JSON",
        connect=lambda: session(stack, account["token"], "json"),
        well_behaved=lambda: notified(stack, account),
        close_codes=SIGNALR_CLOSE_CODES,
        probe=json_probe,
        is_probe_answer=answers_json_probe,
    )


def test_handshake_frames(fuzzed: Stack, fuzzer: FrameFuzzer, senz_account: dict[str, str]) -> None:
    surface = handshake_surface(fuzzed, senz_account)
    print(dict(fuzzer.run(surface, handshake_frames(), frames(150))))


def test_json_hub_frames(fuzzed: Stack, fuzzer: FrameFuzzer, senz_account: dict[str, str]) -> None:
    print(dict(fuzzer.run(hub_surface(fuzzed, senz_account), json_hub_frames(), frames(500))))


def test_frames_that_found_defects(
    fuzzed: Stack, fuzzer: FrameFuzzer, senz_account: dict[str, str]
) -> None:
    fuzzer.replay(handshake_surface(fuzzed, senz_account), FOUND_IN_HANDSHAKES)
    fuzzer.replay(hub_surface(fuzzed, senz_account), FOUND_IN_MESSAGES)
