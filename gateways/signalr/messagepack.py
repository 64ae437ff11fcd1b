"""SignalR's MessagePack hub protocol: binary frames, each a varint length then a MessagePack array.

Arrays are positional (HubProtocol.md, "MessagePack Encoding"); they are turned into the same
dicts the JSON protocol yields, so the hub server handles both alike.
"""

from __future__ import annotations

from typing import Any

import msgpack

from gateways.signalr.protocol import MessageType, ProtocolError

_VOID, _ERROR, _RESULT = 2, 1, 3


def parse_frames(data: bytes) -> list[dict[str, Any]]:
    messages = []
    offset = 0
    while offset < len(data):
        length, offset = _varint(data, offset)
        if offset + length > len(data):
            raise ProtocolError("a message is shorter than its length prefix")
        try:
            values = msgpack.unpackb(data[offset : offset + length], raw=False)
        except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError) as exc:
            raise ProtocolError(f"a message is not valid MessagePack: {exc}") from None
        offset += length
        messages.append(_as_message(values))
    return messages


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    length = shift = 0
    for count in range(5):
        if offset + count >= len(data):
            raise ProtocolError("a length prefix is cut short")
        byte = data[offset + count]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return length, offset + count + 1
    raise ProtocolError("a length prefix is longer than 5 bytes")


def _as_message(values: Any) -> dict[str, Any]:
    if not isinstance(values, list) or not values or not isinstance(values[0], int):
        raise ProtocolError("a message must be an array starting with its type")
    kind = values[0]
    if kind == MessageType.INVOCATION and len(values) >= 5:
        message = {"type": kind, "target": values[3], "arguments": values[4]}
        if values[2] is not None:
            message["invocationId"] = values[2]
        return message
    if kind in (MessageType.PING, MessageType.CLOSE):
        return {"type": kind}
    if kind in (
        MessageType.COMPLETION,
        MessageType.STREAM_INVOCATION,
        MessageType.CANCEL_INVOCATION,
    ):
        return {"type": kind, "invocationId": values[2] if len(values) > 2 else None}
    raise ProtocolError(f"message type {kind} is not supported here")


def frame(values: list[Any]) -> bytes:
    body: bytes = msgpack.packb(values, use_bin_type=True)
    prefix = bytearray()
    length = len(body)
    while True:
        byte = length & 0x7F
        length >>= 7
        prefix.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(prefix) + body


def invocation(target: str, arguments: list[Any]) -> bytes:
    return frame([MessageType.INVOCATION, {}, None, target, arguments, []])


def completion(invocation_id: str, result: Any = None, error: str | None = None) -> bytes:
    if error is not None:
        return frame([MessageType.COMPLETION, {}, invocation_id, _ERROR, error])
    if result is None:
        return frame([MessageType.COMPLETION, {}, invocation_id, _VOID])
    return frame([MessageType.COMPLETION, {}, invocation_id, _RESULT, result])


def close(error: str | None = None, allow_reconnect: bool = False) -> bytes:
    return frame([MessageType.CLOSE, error, allow_reconnect])


PING = frame([MessageType.PING])
