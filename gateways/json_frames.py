"""Reading one JSON frame from a websocket: text or binary, malformed frames as None."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import WebSocket, WebSocketDisconnect


async def next_json_frame(websocket: WebSocket) -> Any:
    """The next frame's JSON value, or None if it is not JSON; raises WebSocketDisconnect."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    try:
        return orjson.loads(message.get("text") or message.get("bytes") or b"")
    except orjson.JSONDecodeError:
        return None
