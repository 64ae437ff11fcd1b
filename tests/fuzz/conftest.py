"""One embedded `hubline serve` for every frame fuzzer, and the fuzzer that reads its log.

The parsers are the same code on both deployments, so the embedded one is enough. Set
HUBLINE_FUZZ_SEED to run other frames, HUBLINE_FUZZ_SCALE to run more of them (a longer
run than the suite's); a failure names the seed and the frame.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.test_senz_api import owner_with_thermostat
from tests.fuzz.frame_fuzzer import FrameFuzzer, ServerLog

FUZZ_SEED = int(os.environ.get("HUBLINE_FUZZ_SEED", "20260509"))
FUZZ_SCALE = float(os.environ.get("HUBLINE_FUZZ_SCALE", "1"))


def frames(count: int) -> int:
    """How many frames a burst sends: the suite's count, scaled for a longer run."""
    return max(1, round(count * FUZZ_SCALE))


@pytest.fixture(scope="session")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The fuzzer fails many device challenges from one address on purpose; the failure
    # limiter is not what it tests, and its refusal would hide the parser behind it.
    env = {
        "HUBLINE_DEVICE_AUTH_FAILURES_PER_WINDOW": "1000000",
        # The OpenShock hub gateway's Pings are what shows a hub's session goes on.
        "HUBLINE_OPENSHOCK_HUB_FIRST_PING_SECONDS": "0.05",
        "HUBLINE_OPENSHOCK_HUB_PING_SECONDS": "0.2",
    }
    with running_stack(Path(tmp_path_factory.mktemp("fuzz")), env=env) as stack:
        yield stack


@pytest.fixture(scope="session")
def senz_account(fuzzed: Stack) -> dict[str, str]:
    """A SENZ user with a thermostat: e-mail, serial and an access token for the hub."""
    return owner_with_thermostat(fuzzed)


@pytest.fixture
def fuzzer(fuzzed: Stack) -> FrameFuzzer:
    process = fuzzed.server.process
    return FrameFuzzer(
        ServerLog(fuzzed.server.log_path),
        FUZZ_SEED,
        server_alive=lambda: process is not None and process.poll() is None,
    )
