"""SENZ driven by aiosenz, pysenz's predecessor, with its own OAuth2 code-flow sign-in."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import aiosenz.auth
import httpx
from aiosenz import SENZAPI, SENZAuth

from tests.e2e.conftest import Stack
from tests.e2e.test_identity_authorize import REDIRECT, Browser
from tests.e2e.test_senz_api import PASSWORD, new_owner


def test_aiosenz_signs_in_with_the_code_flow_and_drives_every_mode(stack: Stack) -> None:
    senz = stack
    email, serial = new_owner(senz, "Hall")
    client = json.loads(
        senz.cli(
            "clients",
            "create",
            "--name",
            "aiosenz",
            "--redirect-uri",
            REDIRECT,
            "--grant-types",
            "authorization_code,refresh_token",
            "--scopes",
            "openid restapi offline_access",
        ).stdout
    )
    # The library's endpoints are module constants: the one input we change.
    aiosenz.auth.AUTHORIZATION_ENDPOINT = f"{senz.url}/connect/authorize"
    aiosenz.auth.TOKEN_ENDPOINT = f"{senz.url}/connect/token"
    aiosenz.auth.API_ENDPOINT = f"{senz.url}/api/v1"
    browser = Browser(senz)

    async def run() -> list[tuple[int, float]]:
        async with httpx.AsyncClient() as http:
            auth = SENZAuth(http, client["client_id"], client["client_secret"], REDIRECT)
            url, _ = await auth.get_authorization_url()
            # The person signs in and allows access in a browser; the app gets the callback.
            callback = browser.consent(browser.login(browser.open(url), email, PASSWORD))
            await auth.set_token_from_authorization_response(callback.headers["location"])
            token = await auth.get_token()
            assert token["refresh_token"] and "restapi" in token["scope"]
            api = SENZAPI(auth)
            assert (await api.get_account()).username == email
            (thermostat,) = await api.get_thermostats()
            assert (thermostat.serial_number, thermostat.name) == (serial, "Hall")
            states = []
            await thermostat.manual(20.0)
            await thermostat.manual(1.5, absolute=False)  # relative to the set point
            t = await api.get_thermostat(serial)
            states.append((t.mode, t.setpoint_temperature))
            await t.hold(18.0, datetime.now(UTC) + timedelta(hours=1))
            t = await api.get_thermostat(serial)
            states.append((t.mode, t.setpoint_temperature))
            await t.auto()
            t = await api.get_thermostat(serial)
            states.append((t.mode, t.setpoint_temperature))
            await auth.close()
            return states

    manual, hold, auto = asyncio.run(run())
    assert manual == (3, 21.5)
    assert hold == (2, 18.0)
    assert auto[0] == 1
