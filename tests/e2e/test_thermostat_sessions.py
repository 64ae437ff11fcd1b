"""A thermostat connected twice stays online until its last session closes (issue 9, defect 6).

In the field a reconnect races the close of the old socket: the device's new session opens
before the server notices the old one is gone.
"""

from __future__ import annotations

import json
from contextlib import ExitStack

import httpx

from domain.thermostats.thermostat import thermostat_id
from tests.e2e.conftest import Stack
from tests.e2e.device_client import device_session
from tests.e2e.test_senz_api import owner_with_thermostat
from tests.e2e.test_senz_thermostat_devices import eventually, shown
from tests.keys import make_key


def disconnects_recorded(stack: Stack, serial: str, auditor: dict[str, str]) -> int:
    page = httpx.get(
        f"{stack.url}/audit/events",
        params={"aggregateId": str(thermostat_id(serial)), "type": "Thermostat.Disconnected"},
        headers=auditor,
    )
    assert page.status_code == 200, page.text
    return len(page.json()["items"])


def test_closing_the_older_of_two_sessions_keeps_the_thermostat_online(stack: Stack) -> None:
    account = owner_with_thermostat(stack)
    serial = account["serial"]
    auditor = stack.auth("audit:read")
    key = make_key("ecdsa-p256")
    registered = httpx.post(
        f"{stack.url}/api/v1/deviceauth/{serial}", json={"publicKey": key.pem}, headers=stack.auth()
    )
    assert registered.status_code == 204

    with ExitStack() as older:
        a = older.enter_context(device_session(stack.ws_url, serial, key))
        assert json.loads(a.recv(timeout=10))["type"] == "THERMOSTAT_SETPOINT"
        with device_session(stack.ws_url, serial, key) as b:
            assert json.loads(b.recv(timeout=10))["type"] == "THERMOSTAT_SETPOINT"
            assert shown(stack, account)["online"] is True

            older.close()  # session A closes; B is still open
            eventually(lambda: disconnects_recorded(stack, serial, auditor) == 1)
            # The audit view has A's close, so this read (read-your-writes) reflects it too.
            assert shown(stack, account)["online"] is True

            b.send(
                json.dumps(
                    {
                        "type": "THERMOSTAT_REPORT",
                        "currentTemperature": 1875,
                        "isHeating": True,
                        "errorState": None,
                    }
                )
            )
            eventually(lambda: shown(stack, account)["currentTemperature"] == 1875)
            state = shown(stack, account)
            assert state["online"] is True and state["isHeating"] is True
    eventually(lambda: shown(stack, account)["online"] is False)
