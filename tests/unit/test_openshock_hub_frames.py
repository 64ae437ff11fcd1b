"""OpenShock hub frames: both directions, both schemas, frames as firmware builds them, and
any bytes at all ending in a message or a FrameError."""

from __future__ import annotations

import random
import struct

import flatbuffers
import pytest

from gateways.openshock import hub_frames
from gateways.openshock.hub_frames import (
    BootStatus,
    FrameError,
    GatewayCaptivePortal,
    GatewayCommands,
    GatewayOtaRequest,
    GatewayPing,
    GatewayTrigger,
    HubCommand,
    HubMessage,
    KeepAlive,
    OtaFailed,
    OtaProgress,
    OtaStarted,
    Pong,
)
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import HubToGatewayMessage as V1Root
from gateways.openshock.wire.Deprecated.DoNotUse.V1 import KeepAlive as V1KeepAlive
from gateways.openshock.wire.Gateway import BootStatus as V2Boot
from gateways.openshock.wire.Gateway import HubToGatewayMessage as V2Root
from gateways.openshock.wire.Gateway import OtaUpdateFailed as V2Failed
from gateways.openshock.wire.Gateway import Pong as V2Pong
from gateways.openshock.wire.Types import SemVer

PETRAINER_998DR = 2

COMMON: list[HubMessage] = [
    BootStatus(boot_type=1, firmware_version="1.5.2-rc.1+abc.7", ota_update_id=42),
    BootStatus(boot_type=0, firmware_version="1.4.0", ota_update_id=0),
    OtaStarted(update_id=-3, version="65535.0.1"),
    OtaProgress(update_id=7, task=6, progress=0.75),
    OtaFailed(update_id=7, message="écriture échouée", fatal=True),
    OtaFailed(update_id=0, message="", fatal=False),
]
HUB_MESSAGES: list[tuple[HubMessage, int]] = [
    *((message, schema) for message in COMMON for schema in (1, 2)),
    (Pong(uptime_ms=2**64 - 1, rssi=-(2**31)), 2),
    (KeepAlive(uptime_ms=123_456), 1),
]
COMMANDS = (
    HubCommand(model=0, rf_id=0, type=0, intensity=0, duration=0),
    HubCommand(model=PETRAINER_998DR, rf_id=4242, type=1, intensity=100, duration=65535),
    HubCommand(model=3, rf_id=65535, type=3, intensity=50, duration=300),
)


@pytest.mark.parametrize(("message", "schema"), HUB_MESSAGES)
def test_a_hub_message_reads_back_as_written(message: HubMessage, schema: int) -> None:
    assert hub_frames.read_hub_message(hub_frames.hub_frame(message, schema), schema) == message


@pytest.mark.parametrize("schema", [1, 2])
def test_gateway_messages_read_back_as_written(schema: int) -> None:
    def read(frame: bytes) -> object:
        return hub_frames.read_gateway_message(frame, schema)

    assert read(hub_frames.command_list(COMMANDS, schema)) == GatewayCommands(COMMANDS)
    assert read(hub_frames.command_list([], schema)) == GatewayCommands(())
    assert read(hub_frames.ota_request("1.5.0-rc.2", schema)) == GatewayOtaRequest("1.5.0-rc.2")
    if schema == 2:
        assert read(hub_frames.ping(1_790_000_000)) == GatewayPing(1_790_000_000)
        for kind in range(4):
            assert read(hub_frames.trigger(kind)) == GatewayTrigger(kind)
    else:
        assert read(hub_frames.captive_portal_v1(True)) == GatewayCaptivePortal(True)
        assert read(hub_frames.captive_portal_v1(False)) == GatewayCaptivePortal(False)


def test_v1_shifts_998dr_ids_only_when_asked_and_only_for_that_model() -> None:
    frame = hub_frames.command_list(COMMANDS, 1, legacy_998dr_ids=True)
    sent = hub_frames.read_gateway_message(frame, 1)
    assert isinstance(sent, GatewayCommands)
    assert [command.rf_id for command in sent.commands] == [0, 4242 >> 1, 65535]
    # The real gateway shifts on /1/ws/device only; schema 2 sends ids as they are.
    v2 = hub_frames.read_gateway_message(
        hub_frames.command_list(COMMANDS, 2, legacy_998dr_ids=True), 2
    )
    assert v2 == GatewayCommands(COMMANDS)


@pytest.mark.parametrize(
    ("version", "shifts"),
    [
        ("1.4.0", True),
        ("1.3.0-rc.1", True),
        ("0.8.1", True),
        ("1.5.0-rc.1", False),
        ("1.5.2", False),
        ("2.0.0", False),
    ],
)
def test_firmware_up_to_1_4_gets_998dr_ids_shifted(version: str, shifts: bool) -> None:
    assert hub_frames.shifts_998dr_ids(version) is shifts


@pytest.mark.parametrize(
    "version", ["", "1.5", "v1.5.2", "1.5.2-", "1.05.2", "1.65536.0", "1.5.2 "]
)
def test_a_version_that_is_not_semver_is_a_value_error(version: str) -> None:
    with pytest.raises(ValueError, match="version"):
        hub_frames.ota_request(version, 2)
    with pytest.raises(ValueError, match="version"):
        hub_frames.shifts_998dr_ids(version)


@pytest.mark.parametrize(
    "build",
    [
        lambda: hub_frames.command_list([HubCommand(0, 65536, 0, 0, 0)], 2),
        lambda: hub_frames.command_list([HubCommand(256, 1, 0, 0, 0)], 1),
        lambda: hub_frames.command_list([HubCommand(0, 1, 0, -1, 0)], 2),
        lambda: hub_frames.command_list([], 3),
        lambda: hub_frames.trigger(4),
        lambda: hub_frames.ping(-1),
        lambda: hub_frames.hub_frame(Pong(1, 0), 1),
        lambda: hub_frames.hub_frame(KeepAlive(1), 2),
        lambda: hub_frames.hub_frame(Pong(1, 2**31), 2),
        lambda: hub_frames.hub_frame(OtaProgress(1, 0, 1e39), 2),
        lambda: hub_frames.hub_frame(BootStatus(3, "1.2.3", 2**31), 1),
    ],
)
def test_a_field_out_of_its_range_is_a_value_error_not_a_frame(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


# Frames as firmware writes them: the generated builders directly, fields in another order,
# defaults left out (a FlatBuffers writer omits fields equal to their default).


def _v2_hub_frame(builder: flatbuffers.Builder, kind: int, payload: int) -> bytes:
    V2Root.Start(builder)
    V2Root.AddPayload(builder, payload)
    V2Root.AddPayloadType(builder, kind)
    builder.Finish(V2Root.End(builder))
    return bytes(builder.Output())


def test_a_firmware_built_pong_and_boot_status_read() -> None:
    builder = flatbuffers.Builder(0)
    V2Pong.Start(builder)
    V2Pong.AddRssi(builder, -67)
    V2Pong.AddUptime(builder, 5_000)
    assert hub_frames.read_hub_message(_v2_hub_frame(builder, 1, V2Pong.End(builder)), 2) == Pong(
        5_000, -67
    )

    builder = flatbuffers.Builder(0)
    SemVer.Start(builder)
    SemVer.AddMinor(builder, 5)
    SemVer.AddMajor(builder, 1)
    version = SemVer.End(builder)
    V2Boot.Start(builder)
    V2Boot.AddFirmwareVersion(builder, version)
    frame = _v2_hub_frame(builder, 2, V2Boot.End(builder))
    assert hub_frames.read_hub_message(frame, 2) == BootStatus(0, "1.5.0", 0)


def test_a_firmware_built_v1_keep_alive_reads() -> None:
    builder = flatbuffers.Builder(0)
    keep_alive = V1KeepAlive.CreateKeepAlive(builder, 987_654_321)
    V1Root.Start(builder)
    V1Root.AddPayloadType(builder, 1)
    V1Root.AddPayload(builder, keep_alive)
    builder.Finish(V1Root.End(builder))
    assert hub_frames.read_hub_message(bytes(builder.Output()), 1) == KeepAlive(987_654_321)


def _frame_without(kind: int, *, payload: bool = True, version: bool = True) -> bytes:
    builder = flatbuffers.Builder(0)
    if version:
        SemVer.Start(builder)
        semver = SemVer.End(builder)
    V2Boot.Start(builder)
    if version:
        V2Boot.AddFirmwareVersion(builder, semver)
    boot = V2Boot.End(builder)
    V2Root.Start(builder)
    V2Root.AddPayloadType(builder, kind)
    if payload:
        V2Root.AddPayload(builder, boot)
    builder.Finish(V2Root.End(builder))
    return bytes(builder.Output())


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (_frame_without(0), "no payload"),
        (_frame_without(9), "unknown payload type 9"),
        (_frame_without(2, payload=False), "without its payload"),
        (_frame_without(2, version=False), "without its required version"),
        (b"", "too short"),
        (b"\x00" * 7, "too short"),
        (b"\xff" * 64, "outside"),
        (bytes(hub_frames.MAX_FRAME_BYTES + 1), "at most 512000"),
    ],
)
def test_an_invalid_frame_says_why(frame: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        hub_frames.read_hub_message(frame, 2)


def test_a_message_that_is_not_utf8_is_a_frame_error() -> None:
    builder = flatbuffers.Builder(0)
    text = builder.CreateString(b"\xff\xfe not utf-8")
    V2Failed.Start(builder)
    V2Failed.AddMessage(builder, text)
    frame = _v2_hub_frame(builder, 5, V2Failed.End(builder))
    with pytest.raises(FrameError, match="UTF-8"):
        hub_frames.read_hub_message(frame, 2)


def test_a_1_mb_frame_is_refused_before_it_is_read() -> None:
    # A valid message followed by a megabyte: the size alone decides.
    frame = hub_frames.hub_frame(Pong(1, 1), 2) + bytes(1_000_000)
    with pytest.raises(FrameError, match="at most"):
        hub_frames.read_hub_message(frame, 2)
    with pytest.raises(FrameError, match="at most"):
        hub_frames.read_gateway_message(frame, 1)


def _patched(frame: bytes, old: int, new: int) -> bytes:
    """`frame` with the one little-endian uint32 equal to `old` replaced by `new`."""
    packed = struct.pack("<I", old)
    assert frame.count(packed) == 1
    return frame.replace(packed, struct.pack("<I", new))


@pytest.mark.parametrize("schema", [1, 2])
def test_lengths_that_claim_more_than_the_frame_are_frame_errors(schema: int) -> None:
    many = hub_frames.command_list([COMMANDS[1]] * 1001, schema)
    with pytest.raises(FrameError, match="runs past the frame"):
        hub_frames.read_gateway_message(_patched(many, 1001, 0xFFFFFFFF), schema)
    with pytest.raises(FrameError):
        hub_frames.read_gateway_message(_patched(many, 1001, 1002), schema)
    failed = hub_frames.hub_frame(OtaFailed(1, "x" * 333, False), schema)
    with pytest.raises(FrameError, match="runs past the frame"):
        hub_frames.read_hub_message(_patched(failed, 333, 0x7FFFFFFF), schema)


def test_a_frame_near_the_limit_reads_whole() -> None:
    commands = [HubCommand(1, n, 2, n % 101, 300) for n in range(20_000)]
    frame = hub_frames.command_list(commands, 1)
    assert len(frame) < hub_frames.MAX_FRAME_BYTES
    assert hub_frames.read_gateway_message(frame, 1) == GatewayCommands(tuple(commands))


def _valid_frames() -> list[tuple[bytes, int]]:
    """(frame, schema) for every kind of message, both directions."""
    frames = [(hub_frames.hub_frame(message, schema), schema) for message, schema in HUB_MESSAGES]
    for schema in (1, 2):
        frames.append((hub_frames.command_list(COMMANDS, schema), schema))
        frames.append((hub_frames.ota_request("1.5.2-beta+x", schema), schema))
    frames += [(hub_frames.ping(7), 2), (hub_frames.trigger(1), 2)]
    frames.append((hub_frames.captive_portal_v1(True), 1))
    return frames


def _mutations(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    choice = rng.randrange(4)
    if choice == 0:  # truncated
        return bytes(data[: rng.randrange(len(data))])
    if choice == 1:  # a few bytes overwritten
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if choice == 2:  # a 32-bit word overwritten, as a hostile offset or length would be
        at = rng.randrange(max(1, len(data) - 3))
        word = rng.choice([0, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, rng.getrandbits(32), len(data)])
        data[at : at + 4] = struct.pack("<I", word)[: len(data) - at]
        return bytes(data)
    return rng.randbytes(rng.randrange(64))  # garbage


def test_any_bytes_read_as_a_message_or_a_frame_error() -> None:
    rng = random.Random(20_261_126)
    valid = _valid_frames()
    errors = 0
    for _ in range(6_000):
        frame, schema = rng.choice(valid)
        mutated = _mutations(rng, frame)
        for read in (hub_frames.read_hub_message, hub_frames.read_gateway_message):
            try:
                read(mutated, schema if rng.random() < 0.8 else 3 - schema)
            except FrameError:
                errors += 1
    # The mutations do hit the checks (a sanity check of the fuzzer itself).
    assert errors > 3_000
