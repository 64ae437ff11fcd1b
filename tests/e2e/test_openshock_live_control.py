"""Live control (/1/ws/live/{hubId}) end to end, on both deployments: a hub online through
the hub websocket (tests/e2e/openshock_hub.py), a live client whose frames become
`LiveControlTick.Sent` events and the hub's command lists, and every refusal: before the
upgrade in OpenShock's problem format, per frame in the protocol's own messages, and the
socket closed for what is not the protocol's JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from gateways.openshock import hub_frames
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

ALL_RIGHTS = {"vibrate": True, "sound": True, "shock": True, "live": True}


def eventually(check: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


def live_url(stack: Stack, hub_id: str, query: str = "") -> str:
    return f"{stack.ws_url}/1/ws/live/{hub_id}{query}"


def open_live(
    stack: Stack, hub_id: str, headers: dict[str, str], query: str = "?tps=5"
) -> ClientConnection:
    # Entered here, so that a socket held past a `with` block (the hub leaving) is allowed.
    socket: ClientConnection = connect(
        live_url(stack, hub_id, query),
        additional_headers={"User-Agent": USER_AGENT, **headers},
        max_size=None,
        open_timeout=15,
    ).__enter__()
    return socket


def token_headers(token: str) -> dict[str, str]:
    return {"OpenShockToken": token}


def receive(socket: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    """The next message that is not a Ping."""
    while True:
        message = json.loads(socket.recv(timeout))
        assert isinstance(message, dict)
        if message["ResponseType"] != "Ping":
            return message


def greeted(socket: ClientConnection, tps: int = 5) -> None:
    assert receive(socket) == {"ResponseType": "TPS", "Data": {"Client": tps}}
    assert receive(socket) == {"ResponseType": "DeviceConnected", "Data": None}


def frame(shocker_id: str, intensity: int, kind: str = "Vibrate") -> str:
    data = {"Shocker": shocker_id, "Intensity": intensity, "Type": kind}
    return json.dumps({"RequestType": "Frame", "Data": data})


def closed_with(socket: ClientConnection, timeout: float = 10.0) -> tuple[int | None, str]:
    deadline = time.monotonic() + timeout
    try:
        while True:
            socket.recv(max(0.01, deadline - time.monotonic()))
    except ConnectionClosed as closed:
        received = closed.rcvd
        return (received.code, received.reason) if received is not None else (None, "")


def refused(stack: Stack, hub_id: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(InvalidStatus) as refusal:
        open_live(stack, hub_id, headers).close()
    answer = refusal.value.response
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = json.loads(answer.body or b"{}")
    assert body["status"] == answer.status_code
    assert body["requestId"] and body["traceId"] == body["requestId"]
    return answer.status_code, body


def tick_events(stack: Stack, client: httpx.Client, hub_id: str) -> list[dict[str, Any]]:
    page = client.get(
        "/audit/events",
        params={"type": "LiveControlTick.Sent", "limit": 1000},
        headers=stack.auth("audit:read"),
    ).json()
    return [e for e in page["items"] if e["payload"]["hub_id"] == hub_id]


def share(client: httpx.Client, owner: Account, friend: Account, shockers: list[Any]) -> None:
    invite = client.post(
        "/2/shares/user/invites",
        json={"shockers": shockers, "user": friend.user_id},
        headers=owner.headers,
    )
    assert invite.status_code == 200, invite.text
    accepted = client.post(
        f"/2/shares/user/invites/incoming/{invite.json()}", headers=friend.headers
    )
    assert accepted.status_code == 200, accepted.text


@contextmanager
def online_hub(
    stack: Stack, client: httpx.Client, owner: Account, hub_id: str
) -> Iterator[TestHub]:
    """The hub connected and online (its first Pong comes after the gateway's first Ping)."""
    with TestHub(stack.url, paired_hub_token(client, owner, hub_id)) as hub:
        hub.send(hub_frames.BootStatus(boot_type=0, firmware_version="1.5.2", ota_update_id=0))
        hub.online(timeout=30)
        eventually(
            lambda: client.get(f"/2/devices/{hub_id}/lcg", headers=owner.headers).status_code == 200
        )
        yield hub


def test_live_frames_become_ticks_the_hub_receives(stack: Stack) -> None:
    owner = new_account(stack.url)
    with http_client(stack.url) as client:
        hub_id = create_hub(client, owner, "Live")
        shocker_id = add_shocker(client, owner, hub_id, rf_id=4321, model="Petrainer998DR")
        with online_hub(stack, client, owner, hub_id) as hub:
            # A login session opens one too (cookie), at the default 10 TPS.
            session_socket = connect(
                live_url(stack, hub_id),
                additional_headers={"Cookie": f"openShockSession={owner.session}"},
            )
            with session_socket:
                greeted(session_socket, tps=10)
            with open_live(stack, hub_id, token_headers(owner.api_token)) as live:
                greeted(live)
                # The first Pong is measured from the connection's start; one not asked for
                # is ignored.
                live.send(json.dumps({"RequestType": "Pong", "Data": {"Timestamp": 1}}))
                announced = receive(live)
                assert announced["ResponseType"] == "LatencyAnnounce"
                assert announced["Data"]["DeviceLatency"] == 0
                assert isinstance(announced["Data"]["OwnLatency"], int)
                live.send(json.dumps({"requesttype": 1000, "data": {}}))
                live.send(json.dumps({"RequestType": 77, "Data": {}}))
                assert receive(live)["ResponseType"] == "RequestTypeNotFound"
                # Frames in any case; a stream of them is one command list per tick.
                for _ in range(3):
                    live.send(frame(shocker_id, 40, "vibrate"))
                    time.sleep(0.1)
                commands = hub.receive(timeout=10)
                assert commands == hub_frames.GatewayCommands(
                    (hub_frames.HubCommand(model=2, rf_id=4321, type=2, intensity=40,
                                           duration=500),)
                )  # fmt: skip
        eventually(lambda: len(tick_events(stack, client, hub_id)) >= 1)
        tick = tick_events(stack, client, hub_id)[0]
        assert tick["payload"]["commands"][0]["shocker_id"] == shocker_id
        assert tick["payload"]["commands"][0]["duration"] == 500


def test_refusals_before_the_upgrade(stack: Stack) -> None:
    owner, stranger = new_account(stack.url), new_account(stack.url)
    friend = new_account(stack.url)
    with http_client(stack.url) as client:
        hub_id = create_hub(client, owner, "Refusing")
        shocker_id = add_shocker(client, owner, hub_id, rf_id=11)
        no_live = {"vibrate": True, "sound": True, "shock": True, "live": False}
        share(client, owner, friend, [{"id": shocker_id, "permissions": no_live, "limits": {}}])
        status, body = refused(stack, hub_id, {})
        assert (status, body["type"]) == (401, "Authentication.HeaderMissingOrInvalid")
        status, body = refused(stack, hub_id, token_headers("not-a-token"))
        assert (status, body["type"]) == (401, "Authentication.TokenInvalid")
        status, body = refused(stack, hub_id, {"OpenShockSession": "no-such-session"})
        assert (status, body["type"]) == (401, "Authentication.SessionInvalid")
        edit_only, _ = owner.token(["shockers.edit"])
        status, body = refused(stack, hub_id, token_headers(edit_only))
        assert (status, body["type"]) == (403, "Authorization.Token.PermissionMissing")
        assert body["requiredPermission"] == "shockers.use"
        assert body["grantedPermissions"] == ["shockers.edit"]
        for caller in (stranger, friend):  # a share without live opens nothing
            status, body = refused(stack, hub_id, token_headers(caller.api_token))
            assert (status, body["type"]) == (404, "Websocket.LiveControl.HubNotFound")
        status, body = refused(stack, "6c4a1d9e-3f1b-4c1a-9a55-2a2b7c0f1e11", owner.headers)
        assert (status, body["type"]) == (404, "Websocket.LiveControl.HubNotFound")
        status, body = refused(stack, hub_id, token_headers(owner.api_token))
        assert (status, body["type"]) == (404, "Websocket.LiveControl.HubNotConnected")
        status, body = refused(stack, "not-a-guid", token_headers(owner.api_token))
        assert status == 404
        plain = client.get(f"/1/ws/live/{hub_id}", headers=owner.headers)
        assert plain.status_code == 400
        assert plain.json()["type"] == "Websocket.NonWebsocketRequest"


def test_each_frame_is_refused_in_the_protocol_for_what_it_may_not_do(stack: Stack) -> None:
    owner, friend = new_account(stack.url), new_account(stack.url)
    with http_client(stack.url) as client:
        hub_id = create_hub(client, owner, "Shared")
        capped = add_shocker(client, owner, hub_id, rf_id=21)
        without_live = add_shocker(client, owner, hub_id, rf_id=22)
        exclusive = add_shocker(client, owner, hub_id, rf_id=23)
        vibrate_live = {"vibrate": True, "sound": False, "shock": False, "live": True}
        share(
            client,
            owner,
            friend,
            [
                {"id": capped, "permissions": vibrate_live, "limits": {"intensity": 20}},
                {"id": without_live, "permissions": {**ALL_RIGHTS, "live": False}, "limits": {}},
                {"id": exclusive, "permissions": ALL_RIGHTS, "limits": {}},
            ],
        )
        with (
            online_hub(stack, client, owner, hub_id) as hub,
            open_live(stack, hub_id, token_headers(friend.api_token)) as live,
        ):
            greeted(live)
            unknown = "6c4a1d9e-3f1b-4c1a-9a55-2a2b7c0f1e11"
            for shocker_id, kind, answer in (
                (unknown, "Vibrate", "ShockerNotFound"),
                (without_live, "Vibrate", "ShockerMissingLivePermission"),
                (capped, "Shock", "ShockerMissingPermission"),
            ):
                live.send(frame(shocker_id, 50, kind))
                assert receive(live) == {"ResponseType": answer, "Data": None}
            # The share's cap pins the intensity.
            live.send(frame(capped, 90))
            assert hub.receive() == hub_frames.GatewayCommands(
                (hub_frames.HubCommand(model=0, rf_id=21, type=2, intensity=20, duration=500),)
            )
            # An exclusive REST control holds live frames off until it ends.
            sent = client.post(
                "/2/shockers/control",
                json={"shocks": [{"id": exclusive, "type": "Vibrate", "intensity": 5,
                                  "duration": 30000, "exclusive": True}]},
                headers=owner.headers,
            )  # fmt: skip
            assert sent.status_code == 200, sent.text

            def held() -> bool:
                live.send(frame(exclusive, 10))
                time.sleep(0.2)
                try:
                    answer = receive(live, timeout=0.3)
                except TimeoutError:
                    return False
                return bool(answer["ResponseType"] == "ShockerExclusive")

            eventually(held)
            # The owner pauses the shared shocker: the session learns it from the log.
            paused = client.post(
                f"/1/shockers/{capped}/pause", json={"pause": True}, headers=owner.headers
            )
            assert paused.status_code == 200, paused.text

            def refused_paused() -> bool:
                live.send(frame(capped, 10))
                while True:
                    try:
                        answer = receive(live, timeout=0.3)
                    except TimeoutError:
                        return False
                    if answer["ResponseType"] == "ShockerPaused":
                        return True

            eventually(refused_paused)


def test_a_paused_token_is_refused_per_frame_and_a_revoked_one_ends_the_session(
    stack: Stack,
) -> None:
    owner = new_account(stack.url)
    with http_client(stack.url) as client:
        hub_id = create_hub(client, owner, "Tokens")
        shocker_id = add_shocker(client, owner, hub_id, rf_id=31)
        token, token_id = owner.token(["shockers.use"])
        with (
            online_hub(stack, client, owner, hub_id),
            open_live(stack, hub_id, token_headers(token)) as live,
        ):
            greeted(live)
            with owner.http() as session:
                paused = session.patch(f"/2/tokens/{token_id}/paused", json={"paused": True})
                assert paused.status_code == 200, paused.text

                def refused_paused() -> bool:
                    live.send(frame(shocker_id, 10))
                    try:
                        return bool(receive(live, timeout=0.3)["ResponseType"] == "TokenPaused")
                    except TimeoutError:
                        return False

                eventually(refused_paused)
                revoked = session.delete(f"/1/tokens/{token_id}")
                assert revoked.status_code == 200, revoked.text
            code, reason = closed_with(live, timeout=15)
            assert code == 1008 and "revoked" in reason


def test_what_is_not_the_protocol_closes_and_the_hub_leaving_ends_the_session(
    stack: Stack,
) -> None:
    owner = new_account(stack.url)
    with http_client(stack.url) as client:
        hub_id = create_hub(client, owner, "Bad input")
        shocker_id = add_shocker(client, owner, hub_id, rf_id=41)
        headers = token_headers(owner.api_token)
        with online_hub(stack, client, owner, hub_id):
            with open_live(stack, hub_id, headers) as live:
                greeted(live)
                live.send(json.dumps({"RequestType": "Frame", "Data": {"Shocker": shocker_id}}))
                assert receive(live)["ResponseType"] == "InvalidData"
                live.send(json.dumps({"RequestType": "BulkFrame", "Data": []}))
                assert receive(live)["ResponseType"] == "InvalidData"
                live.send(json.dumps({"RequestType": "Dance", "Data": {}}))
                assert receive(live)["ResponseType"] == "RequestTypeNotFound"
                live.send("{not json")
                assert closed_with(live) == (1007, "Invalid json message received")
            with open_live(stack, hub_id, headers) as live:
                greeted(live)
                live.send(json.dumps({"RequestType": "Frame", "Data": None}))
                assert closed_with(live)[0] == 1007
            with open_live(stack, hub_id, headers) as live:
                greeted(live)
                padding = "x" * 600_000
                live.send(json.dumps({"RequestType": "Pong", "Data": {"Pad": padding}}))
                assert closed_with(live)[0] == 1009
            live = open_live(stack, hub_id, headers)
            greeted(live)
        # The hub left: the session is told, then closed.
        assert receive(live, timeout=15) == {"ResponseType": "DeviceNotConnected", "Data": None}
        assert closed_with(live)[0] == 1000
        status, body = refused(stack, hub_id, headers)
        assert (status, body["type"]) == (404, "Websocket.LiveControl.HubNotConnected")
