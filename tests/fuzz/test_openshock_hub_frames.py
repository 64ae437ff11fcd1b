"""The OpenShock hub websocket (/2/ws/hub): FlatBuffers frames fuzzed on a live socket. Seeds
are well-formed frames from the upstream schemas' generated code, damaged; random and huge
frames besides. A frame is read when the gateway's next Ping still comes (the fuzz server
pings every 0.2 s); one it cannot read closes the socket.

The legacy /1/ws/device has no Ping to show a frame was read: its session is the same code,
and its decoder is fuzzed on its own (tests/unit/test_openshock_hub_frames.py)."""

from __future__ import annotations

from gateways.openshock import hub_frames
from tests.e2e.conftest import Stack
from tests.e2e.openshock_accounts import add_shocker, create_hub, http_client, new_account
from tests.e2e.openshock_accounts import paired_hub_token as paired_token
from tests.e2e.openshock_hub import TestHub
from tests.fuzz.conftest import frames
from tests.fuzz.frame_fuzzer import WEBSOCKET_CLOSE_CODES, FrameFuzzer, Surface, open_websocket
from tests.fuzz.frames import byte_mutated, huge, mix, random_bytes

# 1000: replaced by the next connection; 1002: a Pong without a Ping; 1003: a text frame;
# 1007: undecodable; 1008: too many reports; 1009: over 512,000 bytes.
CLOSE_CODES = WEBSOCKET_CLOSE_CODES | {1000, 1002, 1003, 1007, 1008, 1009}
_HUB_MESSAGES: list[hub_frames.HubMessage] = [
    hub_frames.BootStatus(boot_type=0, firmware_version="1.5.2", ota_update_id=0),
    hub_frames.BootStatus(boot_type=1, firmware_version="1.6.0-rc.1+b7", ota_update_id=3),
    hub_frames.OtaStarted(update_id=3, version="1.6.0"),
    hub_frames.OtaProgress(update_id=3, task=4, progress=0.5),
    hub_frames.OtaFailed(update_id=3, message="flash failed", fatal=True),
    hub_frames.Pong(uptime_ms=3_600_000, rssi=-60),
]


def _is_ping(message: str | bytes) -> bool:
    if not isinstance(message, bytes):
        return False
    try:
        return isinstance(hub_frames.read_gateway_message(message, 2), hub_frames.GatewayPing)
    except hub_frames.FrameError:
        return False


def test_hub_socket_frames(fuzzed: Stack, fuzzer: FrameFuzzer) -> None:
    owner = new_account(fuzzed.url)
    with http_client(fuzzed.url) as client:
        hub_id = create_hub(client, owner, "Fuzzed")
        shocker_id = add_shocker(client, owner, hub_id)
        token = paired_token(client, owner, hub_id)
        bystander_id = create_hub(client, owner, "Bystander")
        bystander_token = paired_token(client, owner, bystander_id)
    headers = {"DeviceToken": token, "Firmware-Version": "1.5.2"}

    def served() -> None:
        """Another hub is still served: online at its Pong, and told of a control."""
        with TestHub(fuzzed.url, bystander_token) as bystander:
            bystander.online()
        with TestHub(fuzzed.url, token) as hub:
            with http_client(fuzzed.url) as client:
                body = {"shocks": [{"id": shocker_id, "type": 2, "intensity": 5, "duration": 300}]}
                for _ in range(50):
                    sent = client.post("/2/shockers/control", json=body, headers=owner.headers)
                    assert sent.status_code == 200, sent.text
                    try:
                        received = hub.receive(timeout=0.5)
                    except TimeoutError:
                        continue  # the views had not yet seen the new session
                    assert isinstance(received, hub_frames.GatewayCommands)
                    return
            raise AssertionError("no command list reached the hub")

    seeds = [hub_frames.hub_frame(m, 2) for m in _HUB_MESSAGES]
    surface = Surface(
        "OpenShock hub socket",
        connect=lambda: open_websocket(fuzzed.ws_url + "/2/ws/hub", additional_headers=headers),
        well_behaved=served,
        close_codes=CLOSE_CODES,
        is_probe_answer=lambda message, index: _is_ping(message),
        speaks_unasked=True,
    )
    maker = mix(
        (4, byte_mutated(seeds, text=False)),
        (1, random_bytes(text=False, longest=256)),
        (0.1, huge(lambda size: b"\x10" * size, text=False)),
    )
    print(dict(fuzzer.run(surface, maker, frames(150))))
