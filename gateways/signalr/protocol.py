"""ASP.NET Core SignalR's JSON hub protocol (aspnetcore src/SignalR/docs/specs/HubProtocol.md).

Messages are JSON objects, each terminated by the record separator 0x1E.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import orjson

RECORD_SEPARATOR = "\x1e"


class MessageType(IntEnum):
    INVOCATION = 1
    STREAM_ITEM = 2
    COMPLETION = 3
    STREAM_INVOCATION = 4
    CANCEL_INVOCATION = 5
    PING = 6
    CLOSE = 7


class ProtocolError(Exception):
    pass


def frame(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode() + RECORD_SEPARATOR


def parse_frames(text: str) -> list[dict[str, Any]]:
    """One websocket message may carry several records; every record must be an object."""
    if not text.endswith(RECORD_SEPARATOR):
        raise ProtocolError("messages must end with the record separator 0x1E")
    messages = []
    for record in text.split(RECORD_SEPARATOR)[:-1]:
        try:
            message = orjson.loads(record)
        except orjson.JSONDecodeError:
            raise ProtocolError("a message is not valid JSON") from None
        if not isinstance(message, dict):
            raise ProtocolError("a message must be a JSON object")
        messages.append(message)
    return messages


def shown(value: Any, limit: int = 100) -> str:
    """A client's value quoted in an error message: bounded whatever its size or depth (the
    repr of a 1,000-deep list raises RecursionError; a 1 MB string need not come back)."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, int) and value.bit_length() > 64:
        return "<a very large integer>"  # its repr may exceed int's string-conversion limit
    if value is None or isinstance(value, bool | int | float):
        return repr(value)[:limit]
    return f"<{type(value).__name__}>"


def handshake_error(reason: str) -> str:
    return frame({"error": reason})


HANDSHAKE_OK = frame({})
PING = frame({"type": MessageType.PING})


def completion(invocation_id: str, result: Any = None, error: str | None = None) -> str:
    message: dict[str, Any] = {"type": MessageType.COMPLETION, "invocationId": invocation_id}
    if error is not None:
        message["error"] = error
    elif result is not None:
        message["result"] = result
    return frame(message)


def invocation(target: str, arguments: list[Any]) -> str:
    return frame({"type": MessageType.INVOCATION, "target": target, "arguments": arguments})


def close(error: str | None = None, allow_reconnect: bool = False) -> str:
    message: dict[str, Any] = {"type": MessageType.CLOSE}
    if error is not None:
        message["error"] = error
    if allow_reconnect:
        message["allowReconnect"] = True
    return frame(message)
