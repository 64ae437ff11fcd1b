"""Two `serve` nodes on one PostgreSQL, one Kafka log and one Redis: a client may use either.

What one node accepts, the other shows, notifies and enforces: a mode change made through
node A reaches a SignalR subscriber on node B and B's REST view; a grant revoked through
A is refused by B; the SENZ rate limits and failed device challenges are counted for both
nodes together.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from gateways.devices.endpoint import RATE_LIMITED
from tests.e2e.conftest import Stack, running_stack
from tests.e2e.device_client import connect_device
from tests.e2e.server import Server
from tests.e2e.test_senz_api import PASSWORD, owner_with_thermostat, put
from tests.e2e.test_senz_change_notifications import messages, raw_session, subscribe


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Server]]:
    root = tmp_path_factory.mktemp("nodes")
    # Behind one public address the nodes share an issuer, so each accepts the other's tokens.
    env = {"HUBLINE_RATE_LIMIT_RULES": "6/1m,100000/7d", "HUBLINE_ISSUER": "https://hubline.test"}
    with running_stack(root, "distributed", env=env) as stack:
        yield stack, stack.add_server()


def test_a_change_through_one_node_is_notified_and_shown_by_the_other(
    nodes: tuple[Stack, Server],
) -> None:
    a, b = nodes
    account = owner_with_thermostat(a)
    with raw_session(b, account["token"]) as (ws, _, _):
        subscribe(ws, [2])
        changed = put(
            a, account["token"], "manual", {"serialNumber": account["serial"], "temperature": 2150}
        )
        assert changed.status_code == 204
        (notify,) = messages(ws)
        assert notify["target"] == "Notify"
        assert notify["arguments"][0][0] == {
            **notify["arguments"][0][0],
            "type": 2,
            "id": account["serial"],
        }
    shown = httpx.get(
        f"{b.url}/api/v1/Thermostat/{account['serial']}",
        headers={"Authorization": f"Bearer {account['token']}"},
    ).json()
    assert (shown["mode"], shown["setPointTemperature"]) == (3, 2150)


def test_a_grant_revoked_through_one_node_is_refused_by_the_other(
    nodes: tuple[Stack, Server],
) -> None:
    a, b = nodes
    account = owner_with_thermostat(a)
    client = json.loads(
        a.cli(
            "clients", "create", "--name", "nodes", "--grant-types", "password,refresh_token"
        ).stdout
    )
    with OAuth2Client(client["client_id"], client["client_secret"]) as oauth:
        token = oauth.fetch_token(
            f"{a.url}/connect/token",
            username=account["email"],
            password=PASSWORD,
            scope="openid restapi offline_access",
        )
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        assert httpx.get(f"{b.url}/api/v1/Account", headers=auth).status_code == 200
        oauth.revoke_token(f"{a.url}/connect/revocation", token=token["refresh_token"])
    # B learns of it from the log, as fast as Kafka carries it.
    deadline = time.monotonic() + 10
    while httpx.get(f"{b.url}/api/v1/Account", headers=auth).status_code != 401:
        assert time.monotonic() < deadline, "node B still accepts a revoked grant"
        time.sleep(0.05)
    assert httpx.get(f"{a.url}/api/v1/Account", headers=auth).status_code == 401


def test_rate_limits_count_both_nodes_together(nodes: tuple[Stack, Server]) -> None:
    a, b = nodes
    account = owner_with_thermostat(a)
    auth = {"Authorization": f"Bearer {account['token']}"}
    statuses = [
        httpx.get(f"{node.url}/api/v1/Thermostat", headers=auth).status_code
        for node in (a, b, a, b, a, b, a, b)
    ]
    assert statuses == [200] * 6 + [429] * 2


def test_each_node_serves_on_when_the_other_stops(
    nodes: tuple[Stack, Server], tmp_path: Path
) -> None:
    a, b = nodes
    account = owner_with_thermostat(a)
    b.stop()
    try:
        assert (
            put(a, account["token"], "off", {"serialNumber": account["serial"]}).status_code == 204
        )
    finally:
        b.start()
    shown = httpx.get(
        f"{b.url}/api/v1/Thermostat/{account['serial']}",
        headers={"Authorization": f"Bearer {account['token']}"},
    ).json()
    assert shown["mode"] == 5


def test_failed_device_challenges_count_on_every_node(nodes: tuple[Stack, Server]) -> None:
    """Last in this module: it leaves 127.0.0.1 refused on the device gateway for a minute."""
    a, b = nodes
    for attempt in range(10):  # the default limit: 10 failures a minute per device and address
        node = (a, b)[attempt % 2]
        verdict = connect_device(node.ws_url, "NODES-UNKNOWN", None)
        assert not verdict.accepted and verdict.close_code != RATE_LIMITED
    for node in (a, b):
        refused = connect_device(node.ws_url, "NODES-UNKNOWN", None)
        assert refused.close_code == RATE_LIMITED
