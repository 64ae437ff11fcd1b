"""Live control's rules (domain/openshock/live_control.py), its client messages
(gateways/openshock/live_frames.py) and what the log tells live sessions
(projections/openshock_live_access.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.openshock.live_control import (
    TICK_DURATION_MS,
    ActiveFrame,
    LiveRefusal,
    LiveRights,
    Refused,
    clamped_tps,
    decide_frame,
    hold_seconds,
    tick_commands,
)
from domain.openshock.values import (
    ControlType,
    LimitMode,
    SharePermissions,
    ShockerControl,
    ValueRange,
)
from gateways.openshock.live_frames import (
    INVALID_DATA,
    REQUEST_TYPE_NOT_FOUND,
    Frames,
    LiveFrame,
    Malformed,
    Pong,
    exclusive_message,
    read_request,
    response,
    tps_message,
)
from projections.openshock_live_access import (
    LiveChange,
    exclusive_change,
    live_changes,
)
from projections.records import LogRecord

OWNER = LiveRights(paused=False)
VIBRATE_ONLY = SharePermissions(vibrate=True, sound=False, shock=False, live=True)
NOW = 1_000_000.0


def _share(live: bool = True, cap: int | None = None, paused: bool = False) -> LiveRights:
    permissions = SharePermissions(vibrate=True, sound=True, shock=True, live=live)
    return LiveRights(paused=paused, permissions=permissions, intensity_cap=cap)


def _decide(
    rights: LiveRights | None,
    control_type: ControlType = ControlType.VIBRATE,
    intensity: int = 50,
    token: ShockerControl | None = None,
    exclusive_until: float | None = None,
) -> int | Refused:
    return decide_frame(rights, control_type, intensity, token, exclusive_until, NOW)


def test_the_owner_controls_every_type_at_any_intensity() -> None:
    for control_type in ControlType:
        assert _decide(OWNER, control_type, 100) == 100
    assert _decide(OWNER, intensity=255) == 100  # a byte on the wire, capped by the hard limit


def test_refusals_come_in_the_real_gateways_order() -> None:
    paused_token = ShockerControl(paused=True)
    # A paused token refuses before anything, even an unknown shocker.
    assert _decide(None, token=paused_token) == Refused(LiveRefusal.TOKEN_PAUSED)
    assert _decide(None) == Refused(LiveRefusal.SHOCKER_NOT_FOUND)
    # Paused before a missing live permission.
    assert _decide(_share(live=False, paused=True)) == Refused(LiveRefusal.SHOCKER_PAUSED)
    assert _decide(_share(live=False)) == Refused(LiveRefusal.SHOCKER_MISSING_LIVE_PERMISSION)
    vibrate_only = LiveRights(paused=False, permissions=VIBRATE_ONLY)
    assert _decide(vibrate_only, ControlType.SHOCK) == Refused(
        LiveRefusal.SHOCKER_MISSING_PERMISSION
    )
    # Stop is allowed to whoever may start anything.
    assert _decide(vibrate_only, ControlType.STOP, 0) == 0
    assert _decide(OWNER, exclusive_until=NOW + 2) == Refused(
        LiveRefusal.SHOCKER_EXCLUSIVE, NOW + 2
    )
    assert _decide(OWNER, exclusive_until=NOW) == 50  # the hold is over


def test_a_paused_owner_shocker_is_refused() -> None:
    assert _decide(LiveRights(paused=True)) == Refused(LiveRefusal.SHOCKER_PAUSED)


def test_the_token_scopes_then_the_share_caps() -> None:
    clamp = ShockerControl(intensity=ValueRange(10, 40))
    assert _decide(OWNER, intensity=90, token=clamp) == 40
    assert _decide(OWNER, intensity=1, token=clamp) == 10
    lerp = ShockerControl(intensity=ValueRange(20, 60, LimitMode.LERP))
    assert _decide(OWNER, intensity=50, token=lerp) == 40
    assert _decide(OWNER, intensity=200, token=lerp) == 60
    # The share's cap applies after the token's scoping.
    assert _decide(_share(cap=30), intensity=50, token=lerp) == 30
    assert _decide(_share(cap=30), intensity=80) == 30
    assert _decide(_share(cap=None), intensity=80) == 80


@pytest.mark.parametrize(
    ("raw", "tps"),
    [
        (None, 10),
        ("5", 5),
        ("0", 1),
        ("1", 1),
        ("11", 10),
        ("255", 10),
        ("256", 10),  # not a byte: the default
        ("-1", 10),
        ("abc", 10),
        ("", 10),
        ("٣", 10),  # a digit, but not ASCII
    ],
)
def test_tps_is_a_byte_clamped_to_one_to_ten(raw: str | None, tps: int) -> None:
    assert clamped_tps(raw) == tps


def test_a_frame_holds_its_shocker_for_two_and_a_half_intervals_at_least_250_ms() -> None:
    assert hold_seconds(1) == 2.5
    assert hold_seconds(5) == 0.5
    assert hold_seconds(10) == 0.25


def test_a_tick_sends_the_active_shockers_not_under_an_exclusive_hold() -> None:
    active_id, expired_id, exclusive_id, was_exclusive = (str(uuid4()) for _ in range(4))
    active = {
        active_id: ActiveFrame(ControlType.SHOCK, 30, NOW + 0.1),
        expired_id: ActiveFrame(ControlType.VIBRATE, 10, NOW),
        exclusive_id: ActiveFrame(ControlType.SOUND, 20, NOW + 1),
        was_exclusive: ActiveFrame(ControlType.VIBRATE, 5, NOW + 1),
    }
    exclusive = {exclusive_id: NOW + 1, was_exclusive: NOW - 1}
    commands = tick_commands(active, exclusive, NOW)
    assert [(str(c.shocker_id), c.type, c.intensity) for c in commands] == [
        (active_id, "Shock", 30),
        (was_exclusive, "Vibrate", 5),
    ]
    assert {c.duration for c in commands} == {TICK_DURATION_MS}
    assert tick_commands({}, {}, NOW) == ()


# --- client messages ---

SHOCKER = "6c4a1d9e-3f1b-4c1a-9a55-2a2b7c0f1e11"


def _request(message: Any) -> Any:
    return read_request(json.dumps(message))


def test_frames_are_read_in_any_case_with_names_or_numbers() -> None:
    frame = LiveFrame(SHOCKER, 40, ControlType.VIBRATE)
    shapes = [
        {"RequestType": "Frame", "Data": {"Shocker": SHOCKER, "Intensity": 40, "Type": "vibrate"}},
        {"requesttype": 0, "data": {"shocker": SHOCKER, "intensity": 40, "type": 2}},
        {"REQUESTTYPE": "FRAME", "DATA": {"SHOCKER": SHOCKER, "INTENSITY": 40, "TYPE": "2"}},
        # No RequestType is the enum's default: Frame.
        {"Data": {"Shocker": SHOCKER.upper(), "Intensity": 40, "Type": "Vibrate"}},
    ]
    for shape in shapes:
        assert _request(shape) == Frames((frame,)), shape
    bulk = _request(
        {"RequestType": 1, "Data": [{"Shocker": SHOCKER, "Intensity": 40, "Type": "Vibrate"}] * 2}
    )
    assert bulk == Frames((frame, frame))
    assert _request({"RequestType": "pong", "Data": {"Timestamp": 1}}) == Pong()
    assert _request({"RequestType": "1000", "Data": {}}) == Pong()


@pytest.mark.parametrize(
    "data",
    [
        {"Intensity": 40, "Type": "Vibrate"},
        {"Shocker": "not-a-guid", "Intensity": 40, "Type": "Vibrate"},
        {"Shocker": SHOCKER, "Intensity": 256, "Type": "Vibrate"},
        {"Shocker": SHOCKER, "Intensity": -1, "Type": "Vibrate"},
        {"Shocker": SHOCKER, "Intensity": 4.5, "Type": "Vibrate"},
        {"Shocker": SHOCKER, "Intensity": True, "Type": "Vibrate"},
        {"Shocker": SHOCKER, "Intensity": 40, "Type": "Zap"},
        {"Shocker": SHOCKER, "Intensity": 40, "Type": 4},
        {"Shocker": SHOCKER, "Intensity": 40},
        [],
        "text",
        7,
    ],
)
def test_a_frame_that_does_not_fit_is_invalid_data(data: Any) -> None:
    assert _request({"RequestType": "Frame", "Data": data}) == INVALID_DATA


def test_a_bulk_frame_needs_a_non_empty_array_of_good_frames() -> None:
    good = {"Shocker": SHOCKER, "Intensity": 1, "Type": 0}
    assert _request({"RequestType": "BulkFrame", "Data": []}) == INVALID_DATA
    assert _request({"RequestType": "BulkFrame", "Data": good}) == INVALID_DATA
    assert _request({"RequestType": "BulkFrame", "Data": [good, {}]}) == INVALID_DATA


def test_unknown_request_types_are_answered() -> None:
    for request_type in (2, 999, -1, "Dance", "", "1001"):
        assert _request({"RequestType": request_type, "Data": {}}) == REQUEST_TYPE_NOT_FOUND


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        "",
        "null",
        "[]",
        "42",
        '"Frame"',
        '{"RequestType":"Frame"}',
        '{"RequestType":"Frame","Data":null}',
        '{"RequestType":true,"Data":{}}',
        '{"RequestType":1.5,"Data":{}}',
        '{"RequestType":{},"Data":{}}',
        b"\xff\xfe",
    ],
)
def test_what_is_not_the_protocols_json_closes_the_socket(raw: str | bytes) -> None:
    assert read_request(raw) == Malformed()


def test_server_messages_are_pascal_case_with_enum_names() -> None:
    assert json.loads(tps_message(10)) == {"ResponseType": "TPS", "Data": {"Client": 10}}
    assert json.loads(response("DeviceConnected")) == {
        "ResponseType": "DeviceConnected",
        "Data": None,
    }
    until = datetime(2026, 11, 26, 20, 0, 1, 250000, tzinfo=UTC).timestamp()
    assert json.loads(exclusive_message(until)) == {
        "ResponseType": "ShockerExclusive",
        "Data": "2026-11-26T20:00:01.250000+00:00",
    }


# --- what the log tells ---


def _record(kind: str, aggregate_id: str, **payload: Any) -> LogRecord:
    at = datetime(2026, 11, 26, 20, 0, 0, tzinfo=UTC)
    return LogRecord(1, aggregate_id, 1, kind, at, None, payload)


def test_share_and_shocker_changes_name_the_shocker_and_its_hub() -> None:
    shocker, hub = str(uuid4()), str(uuid4())
    moved = live_changes(_record("Shocker.Edited", shocker, hub_id=hub))
    assert [(n.change, n.key) for n in moved] == [
        (LiveChange.ACCESS, shocker),
        (LiveChange.ACCESS, hub),
    ]
    shared = live_changes(_record("Shocker.Shared", shocker, user_id="u"))
    assert [(n.change, n.key) for n in shared] == [(LiveChange.ACCESS, shocker)]
    gone = live_changes(_record("Hub.Deleted", hub))
    assert [(n.change, n.key) for n in gone] == [(LiveChange.HUB_GONE, hub)]
    assert live_changes(_record("ShockerCommand.Sent", shocker)) == []


def test_a_token_change_carries_its_new_scoping() -> None:
    token = str(uuid4())
    stored = {
        "paused": True,
        "intensity": {"min": 0, "max": 50, "mode": "Clamp"},
        "duration": {"min": 300, "max": 65535, "mode": "Clamp"},
    }
    (notice,) = live_changes(_record("ApiToken.PauseChanged", token, shocker_control=stored))
    assert notice.change is LiveChange.TOKEN and notice.key == token
    assert notice.control is not None and notice.control.paused
    assert notice.control.intensity.max == 50
    (cleared,) = live_changes(_record("ApiToken.Changed", token, shocker_control=None))
    assert cleared.control == ShockerControl()


def test_exclusive_controls_hold_live_frames_until_a_stop() -> None:
    shocker, hub = str(uuid4()), str(uuid4())
    sent = _record(
        "ShockerCommand.Sent",
        str(uuid4()),
        hub_id=hub,
        shocker_id=shocker,
        type="Shock",
        exclusive=True,
        duration=1500,
    )
    change = exclusive_change(sent)
    assert change is not None and change.shocker_id == shocker
    assert change.until == sent.timestamp.timestamp() + 1.5
    stop = sent._replace(payload={**sent.payload, "type": "Stop", "exclusive": False})
    stopped = exclusive_change(stop)
    assert stopped is not None and stopped.until is None
    plain = sent._replace(payload={**sent.payload, "exclusive": False})
    assert exclusive_change(plain) is None
    assert exclusive_change(_record("Shocker.PauseSet", shocker, paused=True)) is None


def test_a_tick_command_names_the_shocker_by_uuid() -> None:
    shocker = str(uuid4())
    (command,) = tick_commands({shocker: ActiveFrame(ControlType.STOP, 0, NOW + 1)}, {}, NOW)
    assert command.shocker_id == UUID(shocker)
