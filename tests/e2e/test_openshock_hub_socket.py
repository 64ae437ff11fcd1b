"""The hub websocket (/2/ws/hub, /1/ws/device) with frames from the upstream schemas' generated
code: a hub connects with its paired token, goes online at its first Pong, receives the
controls sent through REST as ShockerCommandLists, and every kind of bad input is refused or
closed without disturbing the other hubs. Both deployments."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from openshock import OpenShockClient
from openshock.models import Control
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from gateways.openshock import hub_frames
from tests.e2e.conftest import Stack, running_stack
from tests.e2e.openshock_accounts import (
    Account,
    add_shocker,
    create_hub,
    http_client,
    new_account,
    paired_hub_token,
)
from tests.e2e.openshock_hub import TestHub, ws_url

# Short keep-alive windows, so that a silent hub is cut off within the test.
_TIMING = {
    "HUBLINE_OPENSHOCK_HUB_FIRST_PING_SECONDS": "0.3",
    "HUBLINE_OPENSHOCK_HUB_PING_SECONDS": "1",
    "HUBLINE_OPENSHOCK_HUB_FIRST_KEEP_ALIVE_SECONDS": "3",
    "HUBLINE_OPENSHOCK_HUB_KEEP_ALIVE_SECONDS": "3",
}


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def hub_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    kind = str(request.param)
    with running_stack(tmp_path_factory.mktemp(f"hubs-{kind}"), kind, dict(_TIMING)) as stack:
        yield stack


def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


def _hub(client: httpx.Client, owner: Account) -> tuple[str, str, str]:
    hub_id = create_hub(client, owner, "Desk")
    shocker_id = add_shocker(client, owner, hub_id, rf_id=4321, model="Petrainer998DR")
    return hub_id, shocker_id, paired_hub_token(client, owner, hub_id)


def test_a_hub_goes_online_at_its_first_pong_and_receives_controls(hub_stack: Stack) -> None:
    owner = new_account(hub_stack.url)
    with http_client(hub_stack.url) as client:
        hub_id, shocker_id, token = _hub(client, owner)
        other_id = add_shocker(client, owner, hub_id, rf_id=7, model="CaiXianlin")
        offline = client.get(f"/2/devices/{hub_id}/lcg", headers=owner.headers)
        assert offline.status_code == 404 and offline.json()["type"] == "Device.NotOnline"
        with TestHub(hub_stack.url, token) as hub:
            hub.send(hub_frames.BootStatus(boot_type=0, firmware_version="1.5.2", ota_update_id=0))
            hub.online()
            eventually(
                lambda: (
                    client.get(f"/2/devices/{hub_id}/lcg", headers=owner.headers).status_code == 200
                )
            )
            lcg = client.get(f"/2/devices/{hub_id}/lcg", headers=owner.headers).json()
            port = hub_stack.server.port
            assert lcg == {"host": "127.0.0.1", "port": port, "pathPrefix": "", "country": "XX"}
            stats = client.get("/1/public/stats").json()["data"]
            assert stats["devicesOnline"] >= 1
            with OpenShockClient(api_token=owner.api_token, base_url=hub_stack.url) as sdk:
                sdk.shockers.control(
                    [
                        Control(id=shocker_id, type="Shock", intensity=40, duration=1500),
                        Control(id=other_id, type="Vibrate", intensity=0, duration=300),
                    ]
                )
            received = hub.receive()
            assert received == hub_frames.GatewayCommands(
                (
                    hub_frames.HubCommand(model=2, rf_id=4321, type=1, intensity=40, duration=1500),
                    hub_frames.HubCommand(model=0, rf_id=7, type=2, intensity=0, duration=300),
                )
            )
        eventually(
            lambda: client.get(f"/2/devices/{hub_id}/lcg", headers=owner.headers).status_code == 404
        )


def test_a_legacy_hub_gets_v1_command_lists(hub_stack: Stack) -> None:
    owner = new_account(hub_stack.url)
    with http_client(hub_stack.url) as client:
        hub_id, shocker_id, token = _hub(client, owner)
        with TestHub(hub_stack.url, token, firmware="1.4.0", schema=1) as hub:
            hub.send(hub_frames.KeepAlive(uptime_ms=5000))
            eventually(
                lambda: (
                    client.get(f"/1/devices/{hub_id}/lcg", headers=owner.headers).status_code == 200
                )
            )
            answer = client.post(
                "/2/shockers/control",
                json={
                    "shocks": [{"id": shocker_id, "type": "Sound", "intensity": 5, "duration": 800}]
                },
                headers=owner.headers,
            )
            assert answer.status_code == 200, answer.text
            received = hub.receive()
            # Firmware before 1.5 reads Petrainer998DR ids shifted, as the real gateway sends them.
            assert received == hub_frames.GatewayCommands(
                (
                    hub_frames.HubCommand(
                        model=2, rf_id=4321 >> 1, type=3, intensity=5, duration=800
                    ),
                )
            )


def test_wrong_credentials_and_headers_are_refused_before_the_upgrade(hub_stack: Stack) -> None:
    owner = new_account(hub_stack.url)
    with http_client(hub_stack.url) as client:
        _, _, token = _hub(client, owner)
    url = ws_url(hub_stack.url) + "/2/ws/hub"
    for headers, status, problem in [
        ({"Firmware-Version": "1.5.2"}, 401, "Authentication.HeaderMissingOrInvalid"),
        (
            {"DeviceToken": "x" * 256, "Firmware-Version": "1.5.2"},
            401,
            "Authentication.TokenInvalid",
        ),
        ({"DeviceToken": token}, 400, "Websocket.Hub.FirmwareVersionInvalid"),
        (
            {"DeviceToken": token, "Firmware-Version": "v1"},
            400,
            "Websocket.Hub.FirmwareVersionInvalid",
        ),
    ]:
        with pytest.raises(InvalidStatus) as refused:
            connect(url, additional_headers=headers).close()
        response = refused.value.response
        assert response.status_code == status
        assert problem.encode() in response.body


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\x00garbage\xff" * 3, 1007),
        (b"", 1007),
        ("a text frame", 1003),
        (b"\x00" * 1_000_000, 1009),
    ],
)
def test_bad_frames_close_the_hub_and_change_nothing(
    hub_stack: Stack, frame: bytes | str, code: int
) -> None:
    owner = new_account(hub_stack.url)
    with http_client(hub_stack.url) as client:
        _, _, token = _hub(client, owner)
        _, _, bystander_token = _hub(client, owner)
    with TestHub(hub_stack.url, bystander_token) as bystander, TestHub(hub_stack.url, token) as hub:
        bystander.online()
        hub.socket.send(frame)
        assert hub.closed_with() == code
        bystander.send(
            hub_frames.BootStatus(boot_type=0, firmware_version="1.5.2", ota_update_id=0)
        )
        bystander.online()  # still served


def test_a_truncated_frame_closes_1007(hub_stack: Stack) -> None:
    owner = new_account(hub_stack.url)
    with http_client(hub_stack.url) as client:
        _, _, token = _hub(client, owner)
    whole = hub_frames.hub_frame(
        hub_frames.BootStatus(boot_type=0, firmware_version="1.5.2", ota_update_id=0), 2
    )
    with TestHub(hub_stack.url, token) as hub:
        hub.socket.send(whole[: len(whole) // 2])
        assert hub.closed_with() == 1007


def test_a_second_connection_of_the_hub_closes_the_first(hub_stack: Stack) -> None:
    owner = new_account(hub_stack.url)
    with http_client(hub_stack.url) as client:
        hub_id, shocker_id, token = _hub(client, owner)
        with TestHub(hub_stack.url, token) as first:
            first.online()
            with TestHub(hub_stack.url, token) as second:
                assert first.closed_with() == 1000
                second.online()
                eventually(
                    lambda: (
                        client.get(f"/2/devices/{hub_id}/lcg", headers=owner.headers).status_code
                        == 200
                    )
                )
                client.post(
                    "/2/shockers/control",
                    json={
                        "shocks": [
                            {"id": shocker_id, "type": "Vibrate", "intensity": 1, "duration": 300}
                        ]
                    },
                    headers=owner.headers,
                )
                assert isinstance(second.receive(), hub_frames.GatewayCommands)


def test_a_hub_that_stops_answering_pings_is_cut_off(hub_stack: Stack) -> None:
    owner = new_account(hub_stack.url)
    with http_client(hub_stack.url) as client:
        _, _, token = _hub(client, owner)
    with TestHub(hub_stack.url, token) as hub:
        hub.online()
        started = time.monotonic()
        assert hub.closed_with(timeout=15) == 1002  # pings arrive, unanswered
        assert time.monotonic() - started >= 2.0


def test_regenerating_the_token_ends_the_hubs_connection(hub_stack: Stack) -> None:
    owner = new_account(hub_stack.url)
    with http_client(hub_stack.url) as client:
        hub_id, _, token = _hub(client, owner)
        with TestHub(hub_stack.url, token) as hub:
            hub.online()
            assert client.put(f"/1/devices/{hub_id}", headers=owner.headers).status_code == 200
            assert hub.closed_with() == 1008


def test_firmware_updates_the_hub_reports_are_its_ota_history(hub_stack: Stack) -> None:
    owner = new_account(hub_stack.url)
    with http_client(hub_stack.url) as client:
        hub_id, _, token = _hub(client, owner)
        session = {"OpenShockSession": owner.session, "User-Agent": "e2e"}
        with TestHub(hub_stack.url, token) as hub:
            hub.online()
            hub.send(hub_frames.OtaStarted(update_id=7, version="1.6.0"))
            hub.send(hub_frames.OtaProgress(update_id=7, task=4, progress=0.5))
            hub.send(hub_frames.BootStatus(boot_type=1, firmware_version="1.6.0", ota_update_id=7))
            hub.send(hub_frames.OtaStarted(update_id=8, version="1.7.0-rc.1"))
            hub.send(hub_frames.OtaFailed(update_id=8, message="flash failed", fatal=True))

            def history() -> list[dict[str, object]]:
                answer = client.get(f"/1/devices/{hub_id}/ota", headers=session)
                assert answer.status_code == 200, answer.text
                return list(answer.json()["data"])

            eventually(lambda: len(history()) == 2 and history()[0]["status"] == "Error")
            newest, oldest = history()
            assert (newest["id"], newest["version"], newest["message"]) == (
                8,
                "1.7.0-rc.1",
                "flash failed",
            )
            assert (oldest["id"], oldest["status"], oldest["version"]) == (7, "Finished", "1.6.0")
        # Another user's hub is as missing as an unknown one; an API token is refused.
        stranger = new_account(hub_stack.url)
        other = client.get(
            f"/1/devices/{hub_id}/ota",
            headers={"OpenShockSession": stranger.session, "User-Agent": "e2e"},
        )
        assert other.status_code == 404 and other.json()["type"] == "Device.NotFound"
        by_token = client.get(f"/1/devices/{hub_id}/ota", headers=owner.headers)
        assert by_token.status_code == 403
        assert by_token.json()["type"] == "Authorization.UserSession.Only"
