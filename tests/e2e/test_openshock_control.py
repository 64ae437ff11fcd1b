"""OpenShock control and its logs end to end, on both deployments: the official SDK where it
works against the real API, plain HTTP for the rest.

Each control item is one `ShockerCommand.Sent` event in the log, carrying what a hub needs
(hub id, RF id, model, type, intensity, duration, exclusive): the audit API reads it back.
A refused request (validation, a paused shocker, a missing permission, someone else's
shocker) sends nothing: no event, no log row.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openshock import OpenShockClient
from openshock.models import Control

from tests.e2e.conftest import Stack
from tests.e2e.openshock_accounts import (
    Account,
    add_shocker,
    create_hub,
    http_client,
    new_account,
    problem,
)

SENT = {"message": "Successfully sent control messages", "data": None}


def _sent_events(stack: Stack, client: httpx.Client, shocker_id: str) -> list[dict[str, Any]]:
    auditor = stack.auth("audit:read")
    page = client.get(
        "/audit/events",
        params={"type": "ShockerCommand.Sent", "limit": 1000},
        headers=auditor,
    ).json()
    return [e for e in page["items"] if e["payload"]["shocker_id"] == shocker_id]


def _logs(client: httpx.Client, account: Account, shocker_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/1/shockers/{shocker_id}/logs", headers=account.headers)
    assert answer.status_code == 200, answer.text
    logs: list[dict[str, Any]] = answer.json()["data"]
    return logs


def test_the_sdk_controls_and_reads_the_logs(stack: Stack) -> None:
    owner = new_account(stack.url)
    with http_client(stack.url) as client:
        hub_id = create_hub(client, owner, "Desk")
        shocker_id = add_shocker(client, owner, hub_id, rf_id=4321, model="Petrainer998DR")
        with OpenShockClient(api_token=owner.api_token, base_url=stack.url) as sdk:
            answer = sdk.shockers.control(
                [Control(id=shocker_id, type="Vibrate", intensity=30, duration=1000)],
                custom_name="ShockOSC",
            )
            assert answer == SENT
            sdk.shockers.control(
                [{"id": shocker_id, "type": "Shock", "intensity": 5, "duration": 300,
                  "exclusive": True}]
            )  # fmt: skip
            newest, oldest = sdk.shockers.logs(shocker_id)
            assert (newest.type, newest.intensity, newest.duration) == ("Shock", 5, 300)
            assert (oldest.type, oldest.controlled_by.custom_name) == ("Vibrate", "ShockOSC")
            assert newest.controlled_by.name == owner.username
            # The SDK reads the paged route's `data`, which repeats the real API's `items`.
            assert [log["id"] for log in sdk.shockers.all_logs()] == [
                str(newest.id), str(oldest.id)
            ]  # fmt: skip
        paged = client.get(
            "/1/shockers/logs",
            params={"pageSize": 1, "sort": "intensity", "sortDir": "Asc",
                    "shockerIds": shocker_id},
            headers=owner.headers,
        ).json()  # fmt: skip
        assert (paged["page"], paged["pageSize"], paged["totalCount"], paged["totalPages"]) == (
            1, 1, 2, 2
        )  # fmt: skip
        (item,) = paged["items"]
        assert (item["intensity"], item["hubId"], item["hubName"]) == (5, hub_id, "Desk")
        assert item["shockerId"] == shocker_id and item["shockerName"] == "Shocker 4321"

        events = _sent_events(stack, client, shocker_id)
        assert [e["payload"]["type"] for e in events] == ["Vibrate", "Shock"]
        shock = events[1]["payload"]
        assert {k: shock[k] for k in (
            "hub_id", "rf_id", "model", "type", "intensity", "duration", "exclusive"
        )} == {
            "hub_id": hub_id, "rf_id": 4321, "model": "Petrainer998DR", "type": "Shock",
            "intensity": 5, "duration": 300, "exclusive": True,
        }  # fmt: skip
        assert events[1]["actor"]["actor_kind"] == "user"


def test_the_deprecated_v1_route_takes_a_bare_array(stack: Stack) -> None:
    owner = new_account(stack.url)
    with http_client(stack.url) as client:
        shocker_id = add_shocker(client, owner, create_hub(client, owner))
        answer = client.post(
            "/1/shockers/control",
            json=[{"id": shocker_id, "type": 3, "intensity": 0, "duration": 65535}],
            headers=owner.headers,
        )
        assert answer.json() == SENT
        (log,) = _logs(client, owner, shocker_id)
        assert (log["type"], log["duration"]) == ("Sound", 65535)
        assert log["controlledBy"]["customName"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"intensity": 101}, "intensity"),
        ({"intensity": -1}, "intensity"),
        ({"duration": 299}, "duration"),
        ({"duration": 65536}, "duration"),
        ({"type": "Tickle"}, "type"),
        ({"type": 4}, "type"),
        ({"intensity": "50"}, "intensity"),
        ({"id": "not-a-guid"}, "id"),
    ],
)
def test_bad_control_items_are_refused_and_send_nothing(
    stack: Stack, change: dict[str, Any], field: str
) -> None:
    owner = new_account(stack.url)
    with http_client(stack.url) as client:
        shocker_id = add_shocker(client, owner, create_hub(client, owner))
        good = {"id": shocker_id, "type": "Vibrate", "intensity": 10, "duration": 1000}
        answer = client.post(
            "/2/shockers/control",
            json={"shocks": [good, {**good, **change}]},
            headers=owner.headers,
        )
        body = problem(answer, 400, "Validation.Error")
        assert any(path.endswith(f"[1].{field}") for path in body["errors"]), body
        assert _logs(client, owner, shocker_id) == []
        assert _sent_events(stack, client, shocker_id) == []


def test_refusals_in_the_real_apis_order_send_nothing(stack: Stack) -> None:
    owner, stranger = new_account(stack.url), new_account(stack.url)
    with http_client(stack.url) as client:
        hub_id = create_hub(client, owner)
        free, paused = add_shocker(client, owner, hub_id, 1), add_shocker(client, owner, hub_id, 2)
        assert client.post(
            f"/1/shockers/{paused}/pause", json={"pause": True}, headers=owner.headers
        ).json() == {"message": "", "data": True}

        def control(person_headers: dict[str, str], *ids: str) -> httpx.Response:
            shocks = [{"id": i, "type": "Shock", "intensity": 50, "duration": 500} for i in ids]
            return client.post("/2/shockers/control", json={"shocks": shocks},
                               headers=person_headers)  # fmt: skip

        # The first failing item refuses the whole request: the good one before it is not sent.
        refused = problem(control(owner.headers, free, paused), 412, "Shocker.Control.Paused")
        assert refused["shockerId"] == paused
        missing = "00000000-0000-4000-8000-000000000000"
        refused = problem(control(owner.headers, free, missing), 404, "Shocker.Control.NotFound")
        assert refused["shockerId"] == missing
        # Someone else's shocker is as missing as an unknown one.
        problem(control(stranger.headers, free), 404, "Shocker.Control.NotFound")
        # A token without shockers.use is refused before its body is even read.
        editor = {"OpenShockToken": owner.token(["shockers.edit"])[0],
                  "User-Agent": "e2e"}  # fmt: skip
        refused = problem(control(editor, free), 403, "Authorization.Token.PermissionMissing")
        assert refused["requiredPermission"] == "shockers.use"
        garbage = client.post("/2/shockers/control", content=b"{", headers={
            **editor, "Content-Type": "application/json"
        })  # fmt: skip
        problem(garbage, 403, "Authorization.Token.PermissionMissing")
        malformed = client.post("/2/shockers/control", content=b"{", headers={
            **owner.headers, "Content-Type": "application/json"
        })  # fmt: skip
        problem(malformed, 400, "Validation.Error")
        assert _logs(client, owner, free) == [] and _logs(client, owner, paused) == []
        assert _sent_events(stack, client, free) == []

        # Resumed, both go through; a repeated id is sent once, as the real API de-duplicates.
        client.post(f"/1/shockers/{paused}/pause", json={"pause": False}, headers=owner.headers)
        assert control(owner.headers, free, paused, free).json() == SENT
        assert len(_logs(client, owner, free)) == 1 and len(_logs(client, owner, paused)) == 1


def test_logs_are_bounded_by_their_query(stack: Stack) -> None:
    owner = new_account(stack.url)
    with http_client(stack.url) as client:
        shocker_id = add_shocker(client, owner, create_hub(client, owner))
        for intensity in (1, 2, 3):
            client.post(
                "/2/shockers/control",
                json={"shocks": [{"id": shocker_id, "type": "Vibrate", "intensity": intensity,
                                  "duration": 300}]},
                headers=owner.headers,
            )  # fmt: skip
        page = client.get(
            f"/1/shockers/{shocker_id}/logs",
            params={"offset": 1, "limit": 1},
            headers=owner.headers,
        ).json()["data"]
        assert [log["intensity"] for log in page] == [2]
        for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
            answer = client.get(
                f"/1/shockers/{shocker_id}/logs", params=params, headers=owner.headers
            )
            problem(answer, 400, "Validation.Error")
        clamped = client.get(
            "/1/shockers/logs", params={"page": 0, "pageSize": 1000}, headers=owner.headers
        ).json()
        assert (clamped["page"], clamped["pageSize"], clamped["totalCount"]) == (1, 200, 3)
        problem(
            client.get("/1/shockers/logs", params={"sortDir": "Up"}, headers=owner.headers),
            400,
            "Validation.Error",
        )


def test_a_tokens_control_scoping_applies_and_a_paused_token_sends_nothing(stack: Stack) -> None:
    account = new_account(stack.url, "scoped")
    lerp = {
        "paused": False,
        "intensity": {"min": 0, "max": 10, "mode": "Clamp"},
        "duration": {"min": 300, "max": 1300, "mode": "Lerp"},
    }
    token, token_id = account.token(control=lerp)
    with account.with_token(token) as client:
        hub = client.post("/2/devices", json={"name": "Scoped"}).json()
        shocker_id = client.post(
            "/1/shockers",
            json={"name": "Cuff", "rfId": 5, "device": hub, "model": "WellturnT330"},
        ).json()["data"]
        shocks = [{"id": shocker_id, "type": "Vibrate", "intensity": 80, "duration": 65535}]
        assert client.post("/2/shockers/control", json={"shocks": shocks}).json() == SENT
        (log,) = client.get(f"/1/shockers/{shocker_id}/logs").json()["data"]
        assert (log["intensity"], log["duration"]) == (10, 1300)

        with account.http() as session:
            paused = session.patch(f"/2/tokens/{token_id}/paused", json={"paused": True})
            assert paused.json() == {"paused": True}
        problem(client.post("/2/shockers/control", json={"shocks": shocks}), 403, "ApiToken.Paused")
        assert len(client.get(f"/1/shockers/{shocker_id}/logs").json()["data"]) == 1
        assert len(_sent_events(stack, client, shocker_id)) == 1
