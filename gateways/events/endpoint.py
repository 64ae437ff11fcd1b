"""/api/v1/ws: the integrators' event websocket (DEVICE_AUTH_UPDATE and later surfaces' events).

A client may pass ?after=<position> to receive what it missed while disconnected;
every message carries its log position so that a client can de-duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from domain.principals.permissions import Principal
from gateways.websocket_auth import authenticate_websocket, hub_of, refuse
from infra.metrics import OPEN_CONNECTIONS
from projections.notifications import Notification, notifications_for
from projections.records import LogRecord

log = logging.getLogger(__name__)
router = APIRouter()

_QUEUE_LIMIT = 10_000
_SLOW_CONSUMER = 1013


class _Subscriber:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.queue: asyncio.Queue[Notification] = asyncio.Queue(maxsize=_QUEUE_LIMIT)
        self.overflowed = asyncio.Event()

    def take(self, records: Sequence[LogRecord]) -> None:
        for record in records:
            for notification in notifications_for(record):
                if not self.principal.may(notification.required_permission):
                    continue
                try:
                    self.queue.put_nowait(notification)
                except asyncio.QueueFull:
                    self.overflowed.set()
                    return


@router.websocket("/api/v1/ws")
async def event_socket(websocket: WebSocket) -> None:
    after_raw = websocket.query_params.get("after")
    if after_raw is not None and not after_raw.isdigit():
        await refuse(websocket, 400, "after must be a log position (a whole number)")
        return
    principal = await authenticate_websocket(websocket)
    if principal is None:
        return
    hub = hub_of(websocket)
    subscriber = _Subscriber(principal)
    hub.feed.add_listener(subscriber.take)
    await websocket.accept()
    OPEN_CONNECTIONS.labels(gateway="events").inc()
    try:
        delivered = 0
        if after_raw is not None:
            delivered = await _replay(websocket, subscriber, int(after_raw))
        await _serve(websocket, subscriber, delivered)
    except WebSocketDisconnect:
        pass
    finally:
        hub.feed.remove_listener(subscriber.take)
        OPEN_CONNECTIONS.labels(gateway="events").dec()


async def _replay(websocket: WebSocket, subscriber: _Subscriber, after: int) -> int:
    """Send what the store holds after `after`; live items up to there are then skipped."""
    store = hub_of(websocket).store
    head = await asyncio.to_thread(store.head)
    position = after
    while position < head:
        records = await asyncio.to_thread(store.read, position, 500, head)
        if not records:
            break
        for record in records:
            for notification in notifications_for(record):
                if subscriber.principal.may(notification.required_permission):
                    await websocket.send_text(orjson.dumps(notification.payload).decode())
        position = records[-1].position
    return head


async def _serve(websocket: WebSocket, subscriber: _Subscriber, delivered: int) -> None:
    receiver = asyncio.create_task(_receive(websocket))
    try:
        while True:
            getter = asyncio.create_task(subscriber.queue.get())
            overflow = asyncio.create_task(subscriber.overflowed.wait())
            done, _ = await asyncio.wait(
                {getter, receiver, overflow}, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
            if overflow not in done:
                overflow.cancel()
            if receiver in done:
                receiver.result()
                return
            if overflow in done:
                await websocket.close(
                    code=_SLOW_CONSUMER, reason="client too slow; reconnect with ?after="
                )
                return
            notification = getter.result()
            if notification.position <= delivered:
                continue
            await websocket.send_text(orjson.dumps(notification.payload).decode())
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await receiver


async def _receive(websocket: WebSocket) -> None:
    """Clients may PING; anything else gets an ERROR frame and the connection stays open."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        try:
            frame = orjson.loads(message.get("text") or message.get("bytes") or b"")
        except orjson.JSONDecodeError:
            await _error(websocket, "frames must be JSON objects")
            continue
        if isinstance(frame, dict) and frame.get("type") == "PING":
            await websocket.send_text('{"type":"PONG"}')
        else:
            await _error(websocket, 'unsupported frame; the only client frame is {"type":"PING"}')


async def _error(websocket: WebSocket, message: str) -> None:
    await websocket.send_text(orjson.dumps({"type": "ERROR", "message": message}).decode())
