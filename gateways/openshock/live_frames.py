"""Live control's wire format: what a client's message asks, and the server's messages.

Client messages are read as the real gateway's System.Text.Json reads them: property names
in any case, `RequestType` a name (any case) or a number, absent meaning Frame (0, the
enum's default); `Data` absent or null, a message that is not a JSON object, or a
`RequestType` that is neither a string nor an integer ends the socket (1007). A frame needs
`Shocker` (a GUID), `Intensity` (0..255) and `Type` (a control type's name or number); one
that does not fit is InvalidData, and so is a BulkFrame that is not a non-empty array of
them. An unknown request type is RequestTypeNotFound, named or numbered (the real gateway
closes on an unknown name, which its enum reader refuses).

Server messages are PascalCase, enums by name: `{"ResponseType":"TPS","Data":{"Client":10}}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from domain.openshock.values import ControlType

INVALID_JSON = "Invalid json message received"


class RequestType:
    FRAME = 0
    BULK_FRAME = 1
    PONG = 1000


_REQUEST_NAMES = {"frame": RequestType.FRAME, "bulkframe": RequestType.BULK_FRAME,
                  "pong": RequestType.PONG}  # fmt: skip
_CONTROL_TYPES = list(ControlType)


@dataclass(frozen=True)
class LiveFrame:
    shocker_id: str
    intensity: int
    type: ControlType


@dataclass(frozen=True)
class Malformed:
    """The socket is closed with 1007."""


@dataclass(frozen=True)
class Answer:
    """The message is answered with a bare response type (InvalidData, RequestTypeNotFound)."""

    response_type: str


@dataclass(frozen=True)
class Frames:
    frames: tuple[LiveFrame, ...]


@dataclass(frozen=True)
class Pong:
    pass


Request = Malformed | Answer | Frames | Pong
INVALID_DATA = Answer("InvalidData")
REQUEST_TYPE_NOT_FOUND = Answer("RequestTypeNotFound")


def read_request(raw: str | bytes) -> Request:
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return Malformed()
    if not isinstance(message, dict):
        return Malformed()
    request_type: Any = RequestType.FRAME
    data: Any = None
    for key, value in message.items():
        folded = key.lower()
        if folded == "requesttype":
            request_type = value
        elif folded == "data":
            data = value
    if data is None:
        return Malformed()
    if isinstance(request_type, str):
        request_type = _REQUEST_NAMES.get(request_type.lower(), _number(request_type))
    elif not isinstance(request_type, int) or isinstance(request_type, bool):
        return Malformed()
    if request_type == RequestType.PONG:
        return Pong()
    if request_type == RequestType.FRAME:
        frame = _frame(data)
        return INVALID_DATA if frame is None else Frames((frame,))
    if request_type == RequestType.BULK_FRAME:
        if not isinstance(data, list) or not data:
            return INVALID_DATA
        frames = [_frame(item) for item in data]
        if any(frame is None for frame in frames):
            return INVALID_DATA
        return Frames(tuple(f for f in frames if f is not None))
    return REQUEST_TYPE_NOT_FOUND


def _number(text: str) -> int | None:
    # The enum reader also takes a number written as a string ("1000").
    stripped = text.strip()
    if stripped.isascii() and stripped.lstrip("-").isdigit() and len(stripped) <= 11:
        return int(stripped)
    return None


def _frame(data: Any) -> LiveFrame | None:
    if not isinstance(data, dict):
        return None
    shocker = intensity = control = None
    for key, value in data.items():
        folded = key.lower()
        if folded == "shocker":
            shocker = value
        elif folded == "intensity":
            intensity = value
        elif folded == "type":
            control = value
    shocker_id = _guid(shocker)
    control_type = _control_type(control)
    if (
        shocker_id is None
        or control_type is None
        or not isinstance(intensity, int)
        or isinstance(intensity, bool)
        or not 0 <= intensity <= 255
    ):
        return None
    return LiveFrame(shocker_id, intensity, control_type)


def _guid(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return str(UUID(value))
    except ValueError:
        return None


def _control_type(value: Any) -> ControlType | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return _CONTROL_TYPES[value] if 0 <= value < len(_CONTROL_TYPES) else None
    if isinstance(value, str):
        folded = value.lower()
        for member in _CONTROL_TYPES:
            if member.value.lower() == folded:
                return member
        number = _number(value)
        if number is not None and 0 <= number < len(_CONTROL_TYPES):
            return _CONTROL_TYPES[number]
    return None


# --- server messages ---


def response(response_type: str, data: Any = None) -> str:
    # System.Text.Json writes a null Data too.
    return orjson.dumps({"ResponseType": response_type, "Data": data}).decode()


def tps_message(tps: int) -> str:
    return response("TPS", {"Client": tps})


def ping_message(now: float) -> str:
    return response("Ping", {"Timestamp": int(now * 1000)})


def latency_message(own_latency_ms: int) -> str:
    return response("LatencyAnnounce", {"DeviceLatency": 0, "OwnLatency": own_latency_ms})


def exclusive_message(until: float) -> str:
    # A DateTimeOffset as System.Text.Json writes it: ISO 8601 with its offset.
    return response("ShockerExclusive", datetime.fromtimestamp(until, UTC).isoformat())
