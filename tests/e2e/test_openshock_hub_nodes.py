"""A hub does not stay online when its gateway node dies: kill -9 of the node that holds it
(distributed: another node finds its lease expired; embedded: the restarted process finds the
old process's sessions) records it disconnected."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.e2e.conftest import running_stack
from tests.e2e.openshock_accounts import (
    Account,
    add_shocker,
    create_hub,
    http_client,
    new_account,
    paired_hub_token,
)
from tests.e2e.openshock_hub import TestHub

_FAST_LEASES = {
    "HUBLINE_PUSHER_LEASE_RENEW_SECONDS": "0.5",
    "HUBLINE_PUSHER_LEASE_EXPIRES_SECONDS": "2",
    "HUBLINE_OPENSHOCK_HUB_SWEEP_SECONDS": "0.5",
    "HUBLINE_OPENSHOCK_HUB_FIRST_PING_SECONDS": "0.2",
}


def _eventually(check: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def _online(client: httpx.Client, owner: Account, hub_id: str) -> bool:
    answer = client.get(f"/2/devices/{hub_id}/lcg", headers=owner.headers)
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


def _hub(base_url: str) -> tuple[Account, str, str]:
    owner = new_account(base_url)
    with http_client(base_url) as client:
        hub_id = create_hub(client, owner)
        add_shocker(client, owner, hub_id)
        return owner, hub_id, paired_hub_token(client, owner, hub_id)


def test_a_dead_nodes_hub_goes_offline_on_the_other_node(tmp_path: Path) -> None:
    with running_stack(tmp_path, "distributed", dict(_FAST_LEASES)) as a:
        b = a.add_server()
        try:
            owner, hub_id, token = _hub(a.url)
            with http_client(a.url) as on_a, TestHub(b.url, token) as hub:
                hub.online()
                _eventually(lambda: _online(on_a, owner, hub_id))
                b.kill()
                _eventually(lambda: not _online(on_a, owner, hub_id))
                assert on_a.get("/1/public/stats").json()["data"]["devicesOnline"] == 0
        finally:
            b.stop()


def test_a_restarted_process_does_not_keep_its_predecessors_hubs_online(tmp_path: Path) -> None:
    with running_stack(tmp_path, "embedded", dict(_FAST_LEASES)) as stack:
        owner, hub_id, token = _hub(stack.url)
        with TestHub(stack.url, token) as hub:
            with http_client(stack.url) as client:
                hub.online()
                _eventually(lambda: _online(client, owner, hub_id))
            stack.server.kill()  # while the hub is connected: no goodbye is recorded
            stack.server.start()
            with http_client(stack.url) as client:
                _eventually(lambda: not _online(client, owner, hub_id))
