"""SignalR's JSON hub protocol fuzzed on OpenShock's user hub (/1/hubs/user), and invocations
whose arguments no OpenShock client sends: each is answered (a completion error at most) and
the session goes on, and a well-behaved client is still told of its controls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from tests.e2e.conftest import Stack
from tests.e2e.openshock_accounts import (
    USER_AGENT,
    Account,
    add_shocker,
    create_hub,
    http_client,
    new_account,
)
from tests.fuzz.conftest import frames
from tests.fuzz.encodings import signalr_json_records
from tests.fuzz.frame_fuzzer import FrameFuzzer, Surface, open_websocket
from tests.fuzz.frames import Frame
from tests.fuzz.signalr_frames import json_hub_frames
from tests.fuzz.signalr_sessions import RS, SIGNALR_CLOSE_CODES, answers_json_probe, probe_id

DEEP: Any = []
for _ in range(200):
    DEEP = [DEEP]
SHOCKER = "6a1f0e36-3a39-4d83-9f1e-2d9c1b1f1b1f"


def _invocation(target: str, arguments: Any, how: str) -> Frame:
    message = {"type": 1, "invocationId": "odd", "target": target, "arguments": arguments}
    return Frame(signalr_json_records(message), True, how)


ODD_INVOCATIONS = [
    _invocation(
        "ControlV2",
        [[{"id": SHOCKER, "type": 1, "intensity": 1, "duration": 300}] * 5000, None],
        "5,000 items",
    ),
    _invocation("ControlV2", [DEEP, DEEP], "deep arguments"),
    _invocation(
        "ControlV2", [[{"id": SHOCKER, "type": 1e300, "intensity": 1, "duration": 1}]], "huge type"
    ),
    _invocation(
        "ControlV2",
        [[{"id": SHOCKER, "type": "Zap", "intensity": -1, "duration": 0}]],
        "out of range",
    ),
    _invocation(
        "ControlV2",
        [[{"ID": SHOCKER, "TYPE": 2, "INTENSITY": 5, "DURATION": 300}], "x" * 5000],
        "long custom name",
    ),
    _invocation("OtaInstall", [SHOCKER, "1" * 5000], "long version"),
    _invocation("CaptivePortal", [SHOCKER, "yes"], "enabled not a boolean"),
    _invocation("Reboot", [None], "null hub id"),
    _invocation("EmergencyStop", [{"id": SHOCKER}], "object hub id"),
]


@pytest.fixture(scope="module")
def owner(fuzzed: Stack) -> tuple[Account, str]:
    account = new_account(fuzzed.url)
    with http_client(fuzzed.url) as client:
        shocker = add_shocker(client, account, create_hub(client, account, "Fuzz"), rf_id=9)
    return account, shocker


def _session(stack: Stack, account: Account) -> ClientConnection:
    connection = open_websocket(
        f"{stack.ws_url}/1/hubs/user",
        additional_headers={"OpenShockToken": account.api_token, "User-Agent": USER_AGENT},
    )
    connection.send(json.dumps({"protocol": "json", "version": 1}) + RS)
    told = ""
    while "DeviceStatus" not in told:  # the handshake's answer, Welcome, DeviceStatus
        told += str(connection.recv(timeout=10))
    return connection


def _probe(index: int) -> Frame:
    # Arguments that cannot be bound: answered at once, with nothing decided.
    invocation = {"type": 1, "invocationId": probe_id(index), "target": "Reboot", "arguments": [1]}
    return Frame(signalr_json_records(invocation), True, "probe")


def _logged(stack: Stack, account: Account, shocker: str) -> None:
    """A well-behaved client: controls through the hub and is told the Log."""
    with _session(stack, account) as listener:
        control = {
            "type": 1,
            "invocationId": "c",
            "target": "ControlV2",
            "arguments": [[{"id": shocker, "type": 2, "intensity": 5, "duration": 300}], "fuzz"],
        }
        listener.send(json.dumps(control) + RS)
        while '"target":"Log"' not in str(listener.recv(timeout=10)).replace(" ", ""):
            pass


def user_hub_surface(stack: Stack, owner: tuple[Account, str]) -> Surface:
    account, shocker = owner
    return Surface(
        "OpenShock user hub",
        connect=lambda: _session(stack, account),
        well_behaved=lambda: _logged(stack, account, shocker),
        close_codes=SIGNALR_CLOSE_CODES,
        probe=_probe,
        is_probe_answer=answers_json_probe,
    )


def test_json_hub_frames(fuzzed: Stack, fuzzer: FrameFuzzer, owner: tuple[Account, str]) -> None:
    print(dict(fuzzer.run(user_hub_surface(fuzzed, owner), json_hub_frames(), frames(300))))


def test_odd_invocations(fuzzed: Stack, fuzzer: FrameFuzzer, owner: tuple[Account, str]) -> None:
    fuzzer.replay(user_hub_surface(fuzzed, owner), ODD_INVOCATIONS)
