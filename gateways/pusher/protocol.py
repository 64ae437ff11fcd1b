"""The Pusher Channels wire format: what a client may send, and the frames we send back.

Every frame is a JSON object `{"event": ..., "channel"?: ..., "data": ...}`. Channel events
carry `data` as the string the app triggered; our own frames carry a JSON string where
Pusher's clients parse one (connection_established, subscription_succeeded, member events)
and an object where they expect one (pusher:error, pusher:signin_success).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

# Close codes and pusher:error codes, as Pusher documents them.
UNKNOWN_APP = 4001
APP_DISABLED = 4003
OVER_QUOTA = 4004
UNSUPPORTED_PROTOCOL = 4007
NO_PROTOCOL = 4008
UNAUTHORIZED = 4009
OVER_CAPACITY = 4100
RECONNECT = 4200
PONG_NOT_RECEIVED = 4201
CLIENT_EVENT_REJECTED = 4301

# pusher-js sends 7, Pysher 6; 5 differs from them only in what the server never checks.
PROTOCOLS = frozenset({"5", "6", "7"})
ACTIVITY_TIMEOUT_SECONDS = 120
# An error frame quotes at most this much of what the client sent.
_QUOTED = 80


class FrameError(ValueError):
    """A client frame Pusher answers with pusher:error; the connection stays open."""


@dataclass(frozen=True)
class ClientFrame:
    event: str
    channel: str | None
    data: Any


def parse(payload: str | bytes) -> ClientFrame:
    try:
        frame = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise FrameError("Invalid JSON: each message must be a JSON object") from None
    if not isinstance(frame, dict):
        raise FrameError("Invalid message: each message must be a JSON object")
    event = frame.get("event")
    if not isinstance(event, str) or not event:
        raise FrameError("Invalid message: 'event' must be a non-empty string")
    channel = frame.get("channel")
    if channel is not None and not isinstance(channel, str):
        raise FrameError("Invalid message: 'channel' must be a string")
    return ClientFrame(event, channel, frame.get("data"))


def data_object(frame: ClientFrame) -> dict[str, Any]:
    """The data of a pusher: event, which clients send as an object (some as a JSON string)."""
    data = frame.data
    if isinstance(data, str):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise FrameError(f"Invalid {quoted(frame.event)} data: not JSON") from None
    if not isinstance(data, dict):
        raise FrameError(f"Invalid {quoted(frame.event)} data: must be an object")
    return data


def quoted(text: str) -> str:
    """A client's string in our messages: short, so an error never echoes a huge field."""
    return repr(text[:_QUOTED] + ("…" if len(text) > _QUOTED else ""))


def event(name: str, data: Any, channel: str | None = None, **extra: Any) -> str:
    frame: dict[str, Any] = {"event": name}
    if channel is not None:
        frame["channel"] = channel
    frame["data"] = data
    frame.update(extra)
    return orjson.dumps(frame).decode()


def json_string(value: Any) -> str:
    return orjson.dumps(value).decode()


def encoded_size(value: Any, what: str) -> int:
    """The size of a client's JSON value as we would send it on; orjson writes at most 255
    levels of nesting, so a deeper value (which it reads) is refused here, not later."""
    try:
        return len(orjson.dumps(value))
    except orjson.JSONEncodeError:
        raise FrameError(f"{what} nested too deeply") from None


def connection_established(socket_id: str, activity_timeout: int) -> str:
    return event(
        "pusher:connection_established",
        json_string({"socket_id": socket_id, "activity_timeout": activity_timeout}),
    )


def error(message: str, code: int | None = None) -> str:
    return event("pusher:error", {"code": code, "message": message})


PING = event("pusher:ping", {})
PONG = event("pusher:pong", {})
