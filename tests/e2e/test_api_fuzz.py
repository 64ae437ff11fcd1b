"""Schemathesis over every operation of the OpenAPI document, against a running server.

Each run fuzzes with one credential: an API token holding every permission, then a person's
access token (an admin, with SENZ's restapi scope). A 5xx, or an ERROR or traceback in the
server's log, fails the test, which prints schemathesis' report with a curl line for each
failing request. `make fuzz-long` runs the same with many more examples and a random seed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from domain.principals.permissions import KNOWN_RESOURCES
from tests.e2e.conftest import Stack, running_stack
from tests.e2e.user_tokens import user_access_token

# Bounded for CI (both runs take about a minute on two idle cores); `make fuzz-long` raises it.
EXAMPLES = os.environ.get("HUBLINE_FUZZ_EXAMPLES", "25")
# pytest-timeout's marker wins over --timeout: a long run sets its examples and so no limit.
TIMEOUT_SECONDS = 0 if "HUBLINE_FUZZ_EXAMPLES" in os.environ else 900
# A fixed seed makes the CI run repeatable; `random` lets schemathesis pick one (it prints it).
SEED = os.environ.get("HUBLINE_FUZZ_SEED", "20260901")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EVERY_PERMISSION = ",".join(f"{resource}:*" for resource in sorted(KNOWN_RESOURCES))
# The credential reaches schemathesis through its config file and the environment, never argv.
CONFIG = 'headers = { Authorization = "Bearer ${HUBLINE_FUZZ_TOKEN}" }\n'

CREDENTIALS: dict[str, Callable[[Stack], str]] = {
    "api-token-with-every-permission": lambda hub: hub.token(EVERY_PERMISSION, name="fuzz"),
    "user-access-token": lambda hub: user_access_token(hub, role="admin"),
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("api-fuzz")) as stack:
        yield stack


@pytest.mark.timeout(TIMEOUT_SECONDS)
@pytest.mark.parametrize("credential", list(CREDENTIALS))
def test_no_operation_answers_a_server_error(hub: Stack, credential: str, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    log_before = hub.server.log_path.stat().st_size
    command = [
        str(SCHEMATHESIS),
        "--no-color",
        "--config-file",
        str(config),
        "run",
        f"{hub.url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        EXAMPLES,
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--warnings",
        "off",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    if SEED != "random":
        command += ["--seed", SEED]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "HUBLINE_FUZZ_TOKEN": CREDENTIALS[credential](hub)},
    )
    with hub.server.log_path.open(errors="replace") as log:
        log.seek(log_before)
        server_log = log.read()
    report = result.stdout[-25_000:] + result.stderr[-5_000:]
    print(result.stdout[-4_000:])  # the summary, shown with -s (make fuzz-long)
    assert result.returncode == 0, f"schemathesis found failures:\n{report}"
    logged = [
        line
        for line in server_log.splitlines()
        if line.startswith("ERROR") or " ERROR " in line or "Traceback" in line
    ]
    assert not logged, "the server logged errors:\n" + server_log[-10_000:]
