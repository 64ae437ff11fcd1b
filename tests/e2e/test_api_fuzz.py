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
from tests.e2e.openshock_accounts import new_account
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
# OpenShock's routes take their own headers: an API token (routes a token may use) and a
# login session (the session-only ones) at once; each route reads the one it takes.
OPENSHOCK_CONFIG = (
    'headers = { OpenShockToken = "${HUBLINE_FUZZ_TOKEN}",'
    ' OpenShockSession = "${HUBLINE_FUZZ_SESSION}" }\n'
)


def _openshock_account(hub: Stack) -> dict[str, str]:
    account = new_account(hub.url, "fuzz")
    token, _ = account.token()
    return {"HUBLINE_FUZZ_TOKEN": token, "HUBLINE_FUZZ_SESSION": account.session}


CREDENTIALS: dict[str, Callable[[Stack], dict[str, str]]] = {
    "api-token-with-every-permission": lambda hub: {
        "HUBLINE_FUZZ_TOKEN": hub.token(EVERY_PERMISSION, name="fuzz")
    },
    "user-access-token": lambda hub: {"HUBLINE_FUZZ_TOKEN": user_access_token(hub, role="admin")},
    "openshock-token-and-session": _openshock_account,
}
CONFIGS = {"openshock-token-and-session": OPENSHOCK_CONFIG}
# OpenShock's per-user and login limits would answer most of a run 429: off for the fuzzer.
UNLIMITED = {
    "HUBLINE_OPENSHOCK_USER_REQUESTS_PER_MINUTE": "0",
    "HUBLINE_OPENSHOCK_AUTH_REQUESTS_PER_MINUTE": "0",
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("api-fuzz"), env=UNLIMITED) as stack:
        yield stack


@pytest.mark.timeout(TIMEOUT_SECONDS)
@pytest.mark.parametrize("credential", list(CREDENTIALS))
def test_no_operation_answers_a_server_error(hub: Stack, credential: str, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIGS.get(credential, CONFIG))
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
        env={**os.environ, **CREDENTIALS[credential](hub)},
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
