"""OpenShock's SignalR hubs, /1/hubs/user and /1/hubs/share/link/{id}, with clients we did not
write: signalrcore (Python) and @microsoft/signalr (Node), on both deployments.

What reaches a user: Welcome, DeviceStatus, Log after every control of their shockers (REST or
hub, with the sender and the token or link it came through), DeviceUpdate. What a caller may
do through a hub is what REST allows, with refusals silent; a share link's guest controls
within the link's limits, and an expired link is refused before the upgrade.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from signalrcore.hub_connection_builder import HubConnectionBuilder
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from domain.openshock.hub_link import hub_link_id
from gateways.openshock.hub_messages import (
    BootStatus,
    GatewayOtaRequest,
    GatewayTrigger,
    OtaStarted,
)
from tests.e2e.conftest import Stack
from tests.e2e.openshock_accounts import (
    USER_AGENT,
    Account,
    add_shocker,
    create_hub,
    http_client,
    new_account,
    paired_hub_token,
)
from tests.e2e.openshock_hub import TestHub

GUEST_ID = "00000000-0000-0000-0000-000000000000"
JS_CLIENTS = Path(__file__).parent / "js"
RIGHTS = {
    "permissions": {"vibrate": True, "sound": True, "shock": True, "live": False},
    "limits": {"intensity": None, "duration": None},
}
TARGETS = (
    "Welcome",
    "DeviceStatus",
    "Log",
    "DeviceUpdate",
    "Updated",
    "OtaInstallStarted",
    "OtaInstallSucceeded",
)


class Client:
    """A signalrcore connection that keeps what each target received, in order."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.received: dict[str, queue.Queue[list[Any]]] = {t: queue.Queue() for t in TARGETS}
        self.completions: queue.Queue[tuple[Any, str | None]] = queue.Queue()
        self.hub = (
            HubConnectionBuilder()
            .with_url(url, options={"headers": {"User-Agent": USER_AGENT, **(headers or {})}})
            .build()
        )
        for target in TARGETS:
            self.hub.on(target, self.received[target].put)
        self.hub.on_error(lambda message: self.completions.put((None, message.error)))
        opened = threading.Event()
        self.hub.on_open(opened.set)
        self.hub.start()
        assert opened.wait(10), "the hub did not open"

    def next(self, target: str, timeout: float = 10) -> list[Any]:
        try:
            return self.received[target].get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {target} within {timeout} s") from None

    def nothing(self, target: str, within: float = 1.5) -> bool:
        try:
            self.received[target].get(timeout=within)
        except queue.Empty:
            return True
        return False

    def invoke(self, method: str, arguments: list[Any]) -> tuple[Any, str | None]:
        """The completion: (result, None) or (None, error)."""
        self.hub.send(
            method, arguments, on_invocation=lambda m: self.completions.put((m.result, None))
        )
        return self.completions.get(timeout=10)

    def stop(self) -> None:
        self.hub.stop()


def _session_headers(account: Account) -> dict[str, str]:
    return {"Cookie": f"openShockSession={account.session}"}


def _owner_with_shocker(stack: Stack) -> tuple[Account, str, str]:
    owner = new_account(stack.url)
    with http_client(stack.url) as client:
        hub_id = create_hub(client, owner, "Desk")
        shocker_id = add_shocker(client, owner, hub_id, rf_id=77)
    return owner, hub_id, shocker_id


def _logs(stack: Stack, owner: Account, shocker_id: str) -> list[dict[str, Any]]:
    with http_client(stack.url, owner.address) as client:
        answer = client.get(f"/1/shockers/{shocker_id}/logs", headers=owner.headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def _events(stack: Stack, kind: str, aggregate_id: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"type": kind, "limit": 1000}
    if aggregate_id is not None:
        params["aggregateId"] = aggregate_id
    with http_client(stack.url) as client:
        page = client.get("/audit/events", params=params, headers=stack.auth("audit:read"))
    return list(page.json()["items"])


def test_a_rest_control_is_logged_to_the_owner_with_its_token(stack: Stack) -> None:
    owner, _, shocker_id = _owner_with_shocker(stack)
    token, token_id = owner.token()
    watcher = Client(f"{stack.url}/1/hubs/user", _session_headers(owner))
    try:
        [connection_id] = watcher.next("Welcome")
        assert isinstance(connection_id, str) and connection_id
        assert watcher.next("DeviceStatus") == [[]]  # no hub online
        with owner.with_token(token) as client:
            sent = client.post(
                "/2/shockers/control",
                json={"shocks": [{"id": shocker_id, "type": "Vibrate", "intensity": 30,
                                  "duration": 1000}], "customName": "ShockOSC"},
            )  # fmt: skip
            assert sent.status_code == 200, sent.text
        sender, logs = watcher.next("Log")
    finally:
        watcher.stop()
    assert sender["id"] == owner.user_id and sender["name"] == owner.username
    assert sender["customName"] == "ShockOSC" and sender["image"].startswith("https://")
    assert sender["additionalItems"] == {"apiTokenId": token_id}
    [item] = logs
    assert item["shocker"] == {"id": shocker_id, "name": "Shocker 77"}
    assert (item["type"], item["intensity"], item["duration"]) == (2, 30, 1000)


def test_control_v2_through_the_hub_is_logged_and_refusals_are_silent(stack: Stack) -> None:
    owner, _, shocker_id = _owner_with_shocker(stack)
    user = Client(f"{stack.url}/1/hubs/user", {"OpenShockToken": owner.api_token})
    try:
        [connection_id] = user.next("Welcome")
        user.next("DeviceStatus")
        shock = {"id": shocker_id, "type": 1, "intensity": 20, "duration": 500}
        assert user.invoke("ControlV2", [[shock], "hubby"]) == (None, None)
        sender, logs = user.next("Log")
        assert sender["customName"] == "hubby" and sender["connectionId"] == connection_id
        assert (logs[0]["type"], logs[0]["intensity"]) == (1, 20)
        # Control is ControlV2 without a name.
        assert user.invoke("Control", [[{**shock, "type": "Sound"}]]) == (None, None)
        sender, logs = user.next("Log")
        assert sender["customName"] is None and logs[0]["type"] == 3
        # Someone else's (or no) shocker: silent, nothing sent.
        missing = {**shock, "id": "6a1f0e36-3a39-4d83-9f1e-2d9c1b1f1b1f"}
        assert user.invoke("ControlV2", [[missing], None]) == (None, None)
        assert user.nothing("Log")
        # Arguments that cannot be bound, or out of range, are a completion error.
        for arguments in ([["nope"], None], ["nope"], [[{**shock, "intensity": "x"}]],
                          [[{**shock, "intensity": 101}], None], []):  # fmt: skip
            result, error = user.invoke("ControlV2", arguments)
            assert result is None and error, arguments
        assert user.invoke("Reboot", ["not a guid"])[1]
        # The connection still serves.
        assert user.invoke("ControlV2", [[shock], None]) == (None, None)
        user.next("Log")
    finally:
        user.stop()
    rows = _logs(stack, owner, shocker_id)
    assert [r["type"] for r in rows] == ["Shock", "Sound", "Shock"]
    assert rows[-1]["controlledBy"]["customName"] == "hubby"


def test_a_token_without_shockers_use_and_a_tokens_reboot_are_ignored(stack: Stack) -> None:
    owner, hub_id, shocker_id = _owner_with_shocker(stack)
    weak, _ = owner.token(permissions=["devices.edit"])
    owner_view = Client(f"{stack.url}/1/hubs/user", _session_headers(owner))
    user = Client(f"{stack.url}/1/hubs/user", {"OpenShockToken": weak})
    try:
        owner_view.next("Welcome")
        user.next("Welcome")
        shock = {"id": shocker_id, "type": 2, "intensity": 20, "duration": 500}
        assert user.invoke("ControlV2", [[shock], None]) == (None, None)
        session_only: list[tuple[str, list[Any]]] = [
            ("Reboot", [hub_id]),
            ("EmergencyStop", [hub_id]),
            ("CaptivePortal", [hub_id, True]),
            ("OtaInstall", [hub_id, "1.5.2"]),
        ]
        for method, arguments in session_only:
            assert user.invoke(method, arguments) == (None, None)
        assert owner_view.nothing("Log")
        assert _triggers(stack, hub_id) == []
        assert _events(stack, "HubLink.OtaRequested", _link_id(hub_id)) == []
        # The owner's session may: the trigger is recorded (and dropped by an offline hub).
        assert owner_view.invoke("Reboot", [hub_id]) == (None, None)
        assert owner_view.invoke("CaptivePortal", [hub_id, False]) == (None, None)
        assert _triggers(stack, hub_id) == [0, 3]
    finally:
        user.stop()
        owner_view.stop()
    assert _logs(stack, owner, shocker_id) == []


def _triggers(stack: Stack, hub_id: str) -> list[int]:
    return [
        int(e["payload"]["kind"]) for e in _events(stack, "HubLink.Triggered", _link_id(hub_id))
    ]


def _link_id(hub_id: str) -> str:
    return str(hub_link_id(hub_id))


def test_renaming_a_hub_is_a_device_update(stack: Stack) -> None:
    owner, hub_id, _ = _owner_with_shocker(stack)
    user = Client(f"{stack.url}/1/hubs/user", {"OpenShockToken": owner.api_token})
    try:
        user.next("Welcome")
        with owner.with_token() as client:
            renamed = client.patch(f"/1/devices/{hub_id}", json={"name": "Attic"})
            assert renamed.status_code == 200, renamed.text
            assert user.next("DeviceUpdate") == [hub_id, 1]
            created = create_hub(client, owner, "Second")
            assert user.next("DeviceUpdate") == [created, 0]
            assert client.delete(f"/1/devices/{created}").status_code == 200
            assert user.next("DeviceUpdate") == [created, 3]
    finally:
        user.stop()


def _share_link(stack: Stack, owner: Account, shocker_id: str, expires: datetime | None) -> str:
    with owner.with_token() as client:
        body: dict[str, Any] = {"name": "Party"}
        if expires is not None:
            body["expiresOn"] = expires.isoformat().replace("+00:00", "Z")
        created = client.post("/1/shares/links", json=body)
        assert created.status_code == 200, created.text
        link_id = str(created.json()["data"])
        added = client.post(f"/1/shares/links/{link_id}/{shocker_id}")
        assert added.status_code == 200, added.text
    return link_id


def _limit(owner: Account, link_id: str, shocker_id: str, intensity: int, duration: int) -> None:
    rights = {
        "permissions": {"vibrate": True, "sound": True, "shock": True, "live": False},
        "limits": {"intensity": intensity, "duration": duration},
    }
    with owner.with_token() as client:
        edited = client.patch(f"/1/shares/links/{link_id}/{shocker_id}", json=rights)
        assert edited.status_code == 200, edited.text


def test_a_share_link_guest_controls_within_the_links_limits(stack: Stack) -> None:
    owner, _, shocker_id = _owner_with_shocker(stack)
    link_id = _share_link(stack, owner, shocker_id, None)
    owner_view = Client(f"{stack.url}/1/hubs/user", _session_headers(owner))
    guest = Client(f"{stack.url}/1/hubs/share/link/{link_id}?name=Mallory")
    try:
        owner_view.next("Welcome")
        assert guest.next("Welcome") == [1]
        _limit(owner, link_id, shocker_id, 10, 1000)
        assert guest.next("Updated") == []
        shock = {"id": shocker_id, "type": "Shock", "intensity": 90, "duration": 5000}
        assert guest.invoke("Control", [[shock]]) == (None, None)
        sender, logs = owner_view.next("Log")
        assert (sender["id"], sender["name"], sender["customName"]) == (
            GUEST_ID,
            "Guest",
            "Mallory",
        )
        assert sender["additionalItems"] == {"shareLinkId": link_id}
        assert (logs[0]["intensity"], logs[0]["duration"]) == (10, 1000)  # clamped
        with owner.with_token() as client:
            paused = client.post(
                f"/1/shares/links/{link_id}/{shocker_id}/pause", json={"pause": True}
            )
            assert paused.status_code == 200, paused.text
        guest.next("Updated")
        assert guest.invoke("Control", [[shock]]) == (None, None)  # paused: silent
        assert owner_view.nothing("Log")
        assert guest.invoke("Control", [["nope"]])[1]
    finally:
        guest.stop()
        owner_view.stop()
    assert len(_logs(stack, owner, shocker_id)) == 1


def test_a_user_on_a_share_link_is_authenticated(stack: Stack) -> None:
    owner, _, shocker_id = _owner_with_shocker(stack)
    link_id = _share_link(stack, owner, shocker_id, None)
    visitor = new_account(stack.url)
    client = Client(f"{stack.url}/1/hubs/share/link/{link_id}", _session_headers(visitor))
    try:
        assert client.next("Welcome") == [0]
    finally:
        client.stop()


def test_the_share_link_hub_refuses_before_the_upgrade(stack: Stack) -> None:
    owner, _, shocker_id = _owner_with_shocker(stack)
    expires = datetime.now(UTC) + timedelta(seconds=2)
    expiring = _share_link(stack, owner, shocker_id, expires)
    live = _share_link(stack, owner, shocker_id, None)
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.5)
    cases = [
        (f"/1/hubs/share/link/{expiring}?name=Eve", {}, 404),
        ("/1/hubs/share/link/6a1f0e36-3a39-4d83-9f1e-2d9c1b1f1b1f?name=Eve", {}, 404),
        ("/1/hubs/share/link/not-a-guid?name=Eve", {}, 404),
        (f"/1/hubs/share/link/{live}", {}, 401),
        (f"/1/hubs/share/link/{live}?name=" + "x" * 33, {}, 400),
        (f"/1/hubs/share/link/{live}?name=Eve", {"Cookie": "openShockSession=forged"}, 401),
    ]
    for path, headers, status in cases:
        route, _, query = path.partition("?")
        negotiated = httpx.post(f"{stack.url}{route}/negotiate?{query}", headers=headers)
        assert negotiated.status_code == status, (path, negotiated.text)
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{stack.ws_url}{path}", additional_headers=headers, open_timeout=10)
        assert refused.value.response.status_code == status, path
    # The user hub without a credential, or with a forged one.
    for headers in ({}, {"OpenShockToken": "forged"}, {"Cookie": "openShockSession=forged"}):
        assert httpx.post(f"{stack.url}/1/hubs/user/negotiate", headers=headers).status_code == 401


def test_microsoft_signalr_on_both_hubs(stack: Stack) -> None:
    if shutil.which("node") is None or not (JS_CLIENTS / "node_modules" / "@microsoft").exists():
        pytest.fail("node and tests/e2e/js/node_modules are needed: run `make js-clients`")
    owner, _, shocker_id = _owner_with_shocker(stack)
    link_id = _share_link(stack, owner, shocker_id, None)
    script = str(JS_CLIENTS / "openshock_hubs.mjs")
    user = subprocess.run(
        ["node", script, "user", f"{stack.url}/1/hubs/user", owner.api_token, shocker_id],
        capture_output=True, text=True, cwd=JS_CLIENTS, timeout=60,
    )  # fmt: skip
    assert user.returncode == 0, user.stderr
    lines = user.stdout.splitlines()
    messages = [json.loads(line) for line in lines if line.startswith("{")]
    assert [m["target"] for m in messages] == ["Welcome", "DeviceStatus", "Log"]
    sender, logs = messages[2]["args"]
    assert sender["customName"] == "node" and sender["connectionId"] == messages[0]["args"][0]
    assert (logs[0]["type"], logs[0]["intensity"], logs[0]["duration"]) == (2, 40, 800)
    share = subprocess.run(
        ["node", script, "share", f"{stack.url}/1/hubs/share/link/{link_id}?name=Node",
         shocker_id],
        capture_output=True, text=True, cwd=JS_CLIENTS, timeout=60,
    )  # fmt: skip
    assert share.returncode == 0, share.stderr
    assert json.loads(share.stdout.splitlines()[0]) == {"target": "Welcome", "args": [1]}
    assert "INVOKED" in share.stdout
    guest_rows = [r for r in _logs(stack, owner, shocker_id) if r["controlledBy"]["id"] == GUEST_ID]
    assert [r["controlledBy"]["customName"] for r in guest_rows] == ["Node"]


def test_a_hubs_online_state_reaches_its_owner_and_share_users(stack: Stack) -> None:
    owner, hub_id, shocker_id = _owner_with_shocker(stack)
    friend = new_account(stack.url)
    with http_client(stack.url) as client:
        invite = client.post(
            "/2/shares/user/invites",
            json={"shockers": [{"id": shocker_id, **RIGHTS}], "user": friend.user_id},
            headers=owner.headers,
        )
        assert invite.status_code == 200, invite.text
        accepted = client.post(
            f"/2/shares/user/invites/incoming/{invite.json()}", headers=friend.headers
        )
        assert accepted.status_code == 200, accepted.text
        token = paired_hub_token(client, owner, hub_id)
    owner_view = Client(f"{stack.url}/1/hubs/user", _session_headers(owner))
    friend_view = Client(f"{stack.url}/1/hubs/user", {"OpenShockToken": friend.api_token})
    online = [[{"device": hub_id, "online": True, "firmwareVersion": "1.5.2"}]]
    try:
        for view in (owner_view, friend_view):
            view.next("Welcome")
            assert view.next("DeviceStatus") == [[]]
        with TestHub(stack.url, token) as hub:
            hub.online(timeout=20)
            assert owner_view.next("DeviceStatus") == online
            assert friend_view.next("DeviceStatus") == online
            # A client connecting now is told at once. (Raw: signalrcore 1.0.2 sometimes holds
            # a frame that follows Welcome closely until the next one arrives.)
            with connect(
                f"{stack.ws_url}/1/hubs/user",
                additional_headers={"OpenShockToken": friend.api_token, "User-Agent": USER_AGENT},
            ) as late:
                late.send('{"protocol":"json","version":1}\x1e')
                told = ""
                while "DeviceStatus" not in told:
                    told += str(late.recv(timeout=10))
            status = next(json.loads(r) for r in told.split("\x1e") if "DeviceStatus" in r)
            assert status["arguments"] == online
            # The owner's session reaches the hub: an emergency stop is a Trigger.
            assert owner_view.invoke("EmergencyStop", [hub_id]) == (None, None)
            assert hub.receive() == GatewayTrigger(kind=1)
            # A firmware update: asked by the owner, named and reported by the hub.
            assert owner_view.invoke("OtaInstall", [hub_id, "1.6.0"]) == (None, None)
            assert hub.receive() == GatewayOtaRequest(version="1.6.0")
            hub.send(OtaStarted(update_id=5, version="1.6.0"))
            assert owner_view.next("OtaInstallStarted") == [hub_id, 5, "1.6.0"]
            hub.send(BootStatus(boot_type=1, firmware_version="1.6.0", ota_update_id=5))
            assert owner_view.next("OtaInstallSucceeded") == [hub_id, 5]
        offline = [[{"device": hub_id, "online": False, "firmwareVersion": "1.6.0"}]]
        assert owner_view.next("DeviceStatus", timeout=20) == offline
        assert friend_view.next("DeviceStatus", timeout=20) == offline
    finally:
        owner_view.stop()
        friend_view.stop()
