"""Thermostats are devices: they connect through the DeviceAuth challenge, report, and obey."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.device_client import device_session
from tests.e2e.test_senz_api import owner_with_thermostat, put
from tests.keys import make_key


@pytest.fixture(scope="module")
def senz(stack: Stack) -> Stack:
    """SENZ on both deployments (the module-scoped `stack` of tests/e2e/conftest.py)."""
    return stack


def shown(stack: Stack, account: dict[str, str]) -> dict[str, object]:
    return dict(
        httpx.get(
            f"{stack.url}/api/v1/Thermostat/{account['serial']}",
            headers={"Authorization": f"Bearer {account['token']}"},
        ).json()
    )


def eventually(check, within: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_a_thermostat_connects_reports_and_receives_its_set_point(senz: Stack) -> None:
    account = owner_with_thermostat(senz)
    key = make_key("ecdsa-p256")
    registered = httpx.post(
        f"{senz.url}/api/v1/deviceauth/{account['serial']}",
        json={"publicKey": key.pem},
        headers=senz.auth(),
    )
    assert registered.status_code == 204
    with device_session(senz.ws_url, account["serial"], key) as device:
        first = json.loads(device.recv(timeout=10))
        assert first == {
            "type": "THERMOSTAT_SETPOINT",
            "mode": 1,
            "setPointTemperature": 2000,
            "holdUntil": None,
        }
        device.send(
            json.dumps(
                {
                    "type": "THERMOSTAT_REPORT",
                    "currentTemperature": 1875,
                    "isHeating": True,
                    "errorState": None,
                }
            )
        )
        eventually(lambda: shown(senz, account)["currentTemperature"] == 1875)
        state = shown(senz, account)
        assert state["online"] is True and state["isHeating"] is True
        assert (
            put(
                senz,
                account["token"],
                "manual",
                {"serialNumber": account["serial"], "temperature": 2150},
            ).status_code
            == 204
        )
        instruction = json.loads(device.recv(timeout=10))
        assert instruction["mode"] == 3 and instruction["setPointTemperature"] == 2150
        device.send('{"type":"THERMOSTAT_REPORT","currentTemperature":"hot","isHeating":1}')
        assert json.loads(device.recv(timeout=10))["type"] == "ERROR"
    eventually(lambda: shown(senz, account)["online"] is False)
