"""/api/v1/ws: the integrators' event websocket (DEVICE_AUTH_UPDATE and later surfaces' events).

A client may pass ?after=<position> to receive what it missed while disconnected;
every message carries its log position so that a client can de-duplicate. A session ends
with close code 4401 (the code a refused upgrade falls back to) when its credential is
revoked or expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from gateways.events.fanout import NotificationFanout, Subscriber, outgoing_for
from gateways.json_frames import next_json_frame
from gateways.live_sessions import LiveSessions
from gateways.websocket_auth import WebSocketAuthenticator, refuse
from infra.metrics import OPEN_CONNECTIONS
from infra.store.event_store import EventStore
from projections.records import MAX_POSITION

log = logging.getLogger(__name__)
_SLOW_CONSUMER = 1013
_UNAUTHORIZED = 4401


class _Ending:
    """Set when the session's credential is revoked or expires; the session then closes."""

    def __init__(self, subscriber: Subscriber) -> None:
        self.reason = ""
        self.event = asyncio.Event()
        self._subscriber = subscriber

    async def end(self, reason: str) -> None:
        self.reason = reason
        self.event.set()
        self._subscriber.wake()


def event_gateway(
    fanout: NotificationFanout,
    store: EventStore,
    auth: WebSocketAuthenticator,
    sessions: LiveSessions,
) -> APIRouter:
    router = APIRouter()

    @router.websocket("/api/v1/ws")
    async def event_socket(websocket: WebSocket) -> None:
        after_raw = websocket.query_params.get("after")
        after = _position(after_raw) if after_raw is not None else 0
        if after is None:
            await refuse(websocket, 400, "after must be a log position (a whole number)")
            return
        authenticated = await auth.authenticate(websocket)
        if authenticated is None:
            return
        subscriber = Subscriber(authenticated.principal)
        fanout.subscribe(subscriber)
        await websocket.accept()
        OPEN_CONNECTIONS.labels(gateway="events").inc()
        ending = _Ending(subscriber)
        session = sessions.open(authenticated.credential, ending.end)
        try:
            delivered = 0
            if after_raw is not None:
                delivered = await _replay(websocket, store, subscriber, after, ending)
            await _serve(websocket, subscriber, delivered, ending)
        except WebSocketDisconnect:
            pass
        finally:
            sessions.close(session)
            fanout.unsubscribe(subscriber)
            OPEN_CONNECTIONS.labels(gateway="events").dec()

    return router


def _position(raw: str) -> int | None:
    """A log position: ASCII digits (str.isdigit also takes "²") within a signed 64-bit int."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
        return None
    position = int(raw)
    return position if position <= MAX_POSITION else None


async def _replay(
    websocket: WebSocket, store: EventStore, subscriber: Subscriber, after: int, ending: _Ending
) -> int:
    """Send what the store holds after `after`; live items up to there are then skipped."""
    head = await asyncio.to_thread(store.head)
    position = after
    while position < head and not ending.event.is_set():
        records = await asyncio.to_thread(store.read, position, 500, head)
        if not records:
            break
        for item in outgoing_for(records):
            if subscriber.principal.may(item.required_permission):
                await websocket.send_text(item.text)
        position = records[-1].position
    return head


async def _serve(
    websocket: WebSocket, subscriber: Subscriber, delivered: int, ending: _Ending
) -> None:
    receiver = asyncio.create_task(_receive(websocket))
    receiver.add_done_callback(lambda _: subscriber.wake())
    try:
        while True:
            await subscriber.wait()
            if ending.event.is_set():
                await websocket.close(code=_UNAUTHORIZED, reason=f"Unauthorized: {ending.reason}")
                return
            if receiver.done():
                receiver.result()
                return
            if subscriber.overflowed:
                await websocket.close(
                    code=_SLOW_CONSUMER, reason="client too slow; reconnect with ?after="
                )
                return
            if not subscriber.pending:
                continue
            item = subscriber.pending.popleft()
            if item.position <= delivered:
                continue
            await websocket.send_text(item.text)
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await receiver


async def _receive(websocket: WebSocket) -> None:
    """Clients may PING; anything else gets an ERROR frame and the connection stays open."""
    while True:
        frame = await next_json_frame(websocket)
        if frame is None:
            await _error(websocket, "frames must be JSON objects")
            continue
        if isinstance(frame, dict) and frame.get("type") == "PING":
            await websocket.send_text('{"type":"PONG"}')
        else:
            await _error(websocket, 'unsupported frame; the only client frame is {"type":"PING"}')


async def _error(websocket: WebSocket, message: str) -> None:
    await websocket.send_text(orjson.dumps({"type": "ERROR", "message": message}).decode())
