"""`hubline simulate hubs`: simulated hubs pair with their code, dial the gateway assignLCG
names, and print the ShockerCommandLists a control through the official `openshock` SDK
sends them, decoded with the code generated from the upstream schemas.

Distributed: two serve nodes, the SDK on A and the hubs on B. Embedded: one node, the SDK
and the hubs on it (the embedded deployment is one `serve` process by design: its log and
views live in that process, DESIGN.md "Two deployments").
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from openshock import OpenShockClient
from openshock.models import Control

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.openshock_accounts import Account, create_hub, http_client, new_account
from tests.e2e.server import Server, ServerProcess

# A first Ping at once, so that the hubs are online within the test.
_TIMING = {
    "HUBLINE_OPENSHOCK_HUB_FIRST_PING_SECONDS": "0.3",
    "HUBLINE_OPENSHOCK_HUB_PING_SECONDS": "1",
}
# The REST API's model names, and the schema's for the number the hub decodes.
_SCHEMA_MODEL = {
    "CaiXianlin": "CaiXianlin",
    "PetTrainer": "Petrainer",
    "Petrainer998DR": "Petrainer998DR",
    "WellturnT330": "WellturnT330",
}


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def nodes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, Server]]:
    kind = str(request.param)
    root = tmp_path_factory.mktemp(f"simulator-{kind}")
    with running_stack(root, kind, dict(_TIMING)) as stack:
        yield stack, stack.add_server() if kind == "distributed" else stack.server


@contextmanager
def simulator(stack: Stack, url: str, owner: str, log: Path, *more: str) -> Iterator[ServerProcess]:
    args = ["simulate", "hubs", "--owner", owner, "--url", url, *more, *stack.flags]
    process = ServerProcess("simulator", args, log, env=stack.env)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def wait_for(process: ServerProcess, pattern: str, count: int = 1, within: float = 30) -> None:
    """Until the process printed `count` lines matching `pattern`."""
    deadline = time.monotonic() + within
    while len(re.findall(pattern, process.log_path.read_text())) < count:
        assert process.process is not None and process.process.poll() is None, process.log_tail()
        assert time.monotonic() < deadline, f"no {pattern!r} yet:\n{process.log_tail()}"
        time.sleep(0.1)


def own_hubs(client: httpx.Client, owner: Account) -> list[dict[str, Any]]:
    answer = client.get("/1/shockers/own", headers=owner.headers)
    assert answer.status_code == 200, answer.text
    hubs: list[dict[str, Any]] = answer.json()["data"]
    return hubs


def received(hub: str, shocker: dict[str, Any], kind: str, intensity: int, duration: int) -> str:
    """The line the simulator prints for one decoded ShockerCommand."""
    model = _SCHEMA_MODEL[shocker["model"]]
    return f"{hub}: {shocker['name']} ({model} {shocker['rfId']}) {kind} {intensity}% {duration} ms"


def test_a_control_through_the_sdk_on_node_a_reaches_a_simulated_hub_on_node_b(
    nodes: tuple[Stack, Server], tmp_path: Path
) -> None:
    a, b = nodes
    owner = new_account(a.url)
    log = tmp_path / "simulator.log"
    with (
        simulator(a, b.url, owner.username, log, "--count", "2", "--shockers", "2") as sim,
        http_client(a.url) as on_a,
    ):
        wait_for(sim, r"Simulated hub [12]: online", count=2)
        hubs = {hub["name"]: hub for hub in own_hubs(on_a, owner)}
        assert sorted(hubs) == ["Simulated hub 1", "Simulated hub 2"]
        first = {s["name"]: s for s in hubs["Simulated hub 1"]["shockers"]}
        second = {s["name"]: s for s in hubs["Simulated hub 2"]["shockers"]}
        assert sorted(first) == sorted(second) == ["Simulated shocker 1", "Simulated shocker 2"]
        assert [first[f"Simulated shocker {n}"]["model"] for n in (1, 2)] == [
            "CaiXianlin",
            "PetTrainer",
        ]
        # Every hub is online on B, as A's API tells.
        for hub in hubs.values():
            lcg = on_a.get(f"/2/devices/{hub['id']}/lcg", headers=owner.headers)
            assert lcg.status_code == 200, lcg.text

        with OpenShockClient(api_token=owner.api_token, base_url=a.url) as sdk:
            sdk.shockers.control(
                [
                    Control(
                        id=first["Simulated shocker 1"]["id"],
                        type="Shock",
                        intensity=40,
                        duration=1500,
                    ),
                    Control(
                        id=first["Simulated shocker 2"]["id"],
                        type="Vibrate",
                        intensity=0,
                        duration=300,
                    ),
                    Control(
                        id=second["Simulated shocker 2"]["id"],
                        type="Sound",
                        intensity=9,
                        duration=65535,
                    ),
                ]
            )
            # One ShockerCommandList per hub, its commands in the order sent.
            expected = [
                received("Simulated hub 1", first["Simulated shocker 1"], "Shock", 40, 1500),
                received("Simulated hub 1", first["Simulated shocker 2"], "Vibrate", 0, 300),
            ]
            wait_for(sim, re.escape(expected[-1]))
            lines = log.read_text().splitlines()
            at = lines.index(expected[0])
            assert lines[at : at + 2] == expected
            wait_for(
                sim,
                re.escape(
                    received("Simulated hub 2", second["Simulated shocker 2"], "Sound", 9, 65535)
                ),
            )

            # Node B restarts: the hubs come back by themselves and are reached again.
            b.stop()
            b.start()
            wait_for(sim, r"Simulated hub 1: connected to", count=2)
            sdk.shockers.control(
                [
                    Control(
                        id=first["Simulated shocker 1"]["id"],
                        type="Stop",
                        intensity=0,
                        duration=300,
                    )
                ]
            )
            wait_for(
                sim,
                re.escape(
                    received("Simulated hub 1", first["Simulated shocker 1"], "Stop", 0, 300)
                ),
            )

        # SIGTERM: the hubs close their sockets and the command ends with 0.
        assert sim.process is not None
        sim.process.send_signal(signal.SIGTERM)
        assert sim.process.wait(timeout=15) == 0, sim.log_tail()
        deadline = time.monotonic() + 15
        hub_id = hubs["Simulated hub 1"]["id"]
        while on_a.get(f"/2/devices/{hub_id}/lcg", headers=owner.headers).status_code != 404:
            assert time.monotonic() < deadline, "the hub is still online after the simulator ended"
            time.sleep(0.1)


def test_a_second_run_reuses_the_hubs_and_bad_input_is_refused(
    nodes: tuple[Stack, Server], tmp_path: Path
) -> None:
    a, b = nodes
    owner = new_account(a.url)
    usage = a.cli("simulate", "hubs", "--help").stdout
    for option, default in (
        ("--count", "1"),
        ("--url", "http://127.0.0.1:8080"),
        ("--shockers", "1"),
    ):
        assert option in usage and f"(default: {default})" in usage
    refusals = [
        (["--owner", "nobody_here"], "no user 'nobody_here'"),
        (["--owner", owner.username, "--count", "5"], "5 is not 1 to 4"),
        (["--owner", owner.username, "--shockers", "12"], "12 is not 1 to 11"),
        (["--owner", owner.username, "--url", "ftp://x"], "is not a server address"),
    ]
    for args, says in refusals:
        refused = a.cli("simulate", "hubs", *args, check=False)
        assert refused.returncode == 2 and says in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr

    with http_client(a.url) as on_a:
        for name in ("Desk", "Bed", "Hall"):
            create_hub(on_a, owner, name)
        full = a.cli("simulate", "hubs", "--owner", owner.username, "--count", "2", check=False)
        assert full.returncode == 2, full.stderr
        assert "has 3 of the 4 hubs a user may have: --count 2 needs 2 more" in full.stderr

        with simulator(a, b.url, owner.email, tmp_path / "first.log") as first:
            wait_for(first, r"Simulated hub 1: online")
            before = {h["name"]: h for h in own_hubs(on_a, owner)}["Simulated hub 1"]
            again = tmp_path / "again.log"
            with simulator(a, b.url, owner.username, again, "--shockers", "2") as second:
                wait_for(second, r"Simulated hub 1: online")
                # Paired again with a new code, the hub took the connection over and the
                # first run's token counts no more: its hub stops, and so does the command.
                assert first.process is not None
                assert first.process.wait(timeout=30) == 1, first.log_tail()
                told = first.log_tail()
                assert "Simulated hub 1: assignLCG refused the hub's token: 401" in told
                assert "this hub stops" in told and "the simulated hubs were all refused" in told
        hubs = own_hubs(on_a, owner)
        assert sorted(h["name"] for h in hubs) == ["Bed", "Desk", "Hall", "Simulated hub 1"]
        after = next(h for h in hubs if h["name"] == "Simulated hub 1")
        assert after["id"] == before["id"]
        assert [s["name"] for s in after["shockers"]] == [
            "Simulated shocker 1",
            "Simulated shocker 2",
        ]
        assert after["shockers"][0] == before["shockers"][0]
