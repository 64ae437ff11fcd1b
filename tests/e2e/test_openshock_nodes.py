"""Two `serve` nodes of the distributed deployment: what one node's OpenShock REST records,
the other node reads.

A control sent through node A is a `ShockerCommand.Sent` event in the log that every node
reads. No gateway of this release delivers it (the hub gateway is the next issue, and
`/api/v1/ws` carries DeviceAuth updates only), so node B is asked through its audit API,
which waits until the views hold the log as it was when the request arrived.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openshock import OpenShockClient
from openshock.models import Control

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.openshock_accounts import add_shocker, create_hub, http_client, new_account
from tests.e2e.server import Server


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Server]]:
    with running_stack(tmp_path_factory.mktemp("openshock-nodes"), "distributed") as stack:
        yield stack, stack.add_server()


def test_a_control_through_node_a_is_read_on_node_b(nodes: tuple[Stack, Server]) -> None:
    a, b = nodes
    owner = new_account(a.url)
    auditor = a.auth("audit:read")
    with http_client(a.url) as on_a, http_client(b.url) as on_b:
        hub_id = create_hub(on_a, owner, "Desk")
        shocker_id = add_shocker(on_a, owner, hub_id, rf_id=4321, model="Petrainer998DR")
        other_id = add_shocker(on_a, owner, hub_id, rf_id=7, model="CaiXianlin")
        with OpenShockClient(api_token=owner.api_token, base_url=a.url) as sdk:
            sdk.shockers.control(
                [
                    Control(id=shocker_id, type="Shock", intensity=40, duration=1500),
                    Control(id=other_id, type="Vibrate", intensity=0, duration=300),
                ]
            )
            sdk.shockers.control(
                [Control(id=shocker_id, type="Sound", intensity=9, duration=65535, exclusive=True)]
            )

        page = on_b.get(
            "/audit/events", params={"type": "ShockerCommand.Sent", "limit": 1000}, headers=auditor
        )
        assert page.status_code == 200, page.text
        sent = [e["payload"] for e in page.json()["items"]]
        hub_needs = ("hub_id", "rf_id", "model", "type", "intensity", "duration", "exclusive")
        mine = [p for p in sent if p["shocker_id"] in (shocker_id, other_id)]
        assert [tuple(p[k] for k in hub_needs) for p in mine] == [
            (hub_id, 4321, "Petrainer998DR", "Shock", 40, 1500, False),
            (hub_id, 7, "CaiXianlin", "Vibrate", 0, 300, False),
            (hub_id, 4321, "Petrainer998DR", "Sound", 9, 65535, True),
        ]

        # The hub token sealed on node A is opened on node B: one master key per deployment.
        shown = on_b.get(f"/1/devices/{hub_id}", headers=owner.headers).json()["data"]["token"]
        assert len(shown) == 256
        me = on_b.get("/1/device/self", headers={"DeviceToken": shown})
        assert [s["id"] for s in me.json()["data"]["shockers"]] == [shocker_id, other_id]
