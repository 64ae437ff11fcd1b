"""`hubline simulate thermostats`: simulated thermostats pass the challenge and heat up."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx

from tests.e2e.conftest import running_stack
from tests.e2e.server import ServerProcess
from tests.e2e.test_senz_api import owner_with_thermostat


def test_simulated_thermostats_connect_and_heat(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        account = owner_with_thermostat(stack)
        prefix = f"S{uuid.uuid4().hex[:4].upper()}"
        simulator = ServerProcess(
            "simulator",
            [
                "simulate",
                "thermostats",
                "--count",
                "3",
                "--owner",
                account["email"],
                "--url",
                stack.ws_url,
                "--prefix",
                prefix,
                "--tick",
                "0.2",
                *stack.flags,
            ],
            tmp_path / "simulator.log",
        )
        simulator.start()
        try:
            auth = {"Authorization": f"Bearer {account['token']}"}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                simulated = [
                    t
                    for t in httpx.get(f"{stack.url}/api/v1/Thermostat", headers=auth).json()
                    if t["serialNumber"].startswith(prefix)
                ]
                if len(simulated) == 3 and all(t["online"] and t["isHeating"] for t in simulated):
                    break
                time.sleep(0.5)
            assert len(simulated) == 3, simulator.log_tail()
            assert all(t["online"] for t in simulated), simulated
            warmed = simulated[0]["currentTemperature"]
            time.sleep(2)
            again = httpx.get(
                f"{stack.url}/api/v1/Thermostat/{simulated[0]['serialNumber']}", headers=auth
            ).json()
            assert again["currentTemperature"] > warmed  # heating towards 20 °C
        finally:
            simulator.stop()
