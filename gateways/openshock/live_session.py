"""One accepted live-control socket (live_control.py admits it): its reader, its Pings, and
what the log tells it.

The caller's rights are those read at the upgrade, read again whenever the log shows a
change to the hub's shockers or shares (projections/openshock_live_access.py); a token's
pause and scoping follow the token's own events. Each frame is decided by
domain/openshock/live_control.py; what passes marks its shocker active in this node's
LiveHubs (live_ticks.py). Messages are bounded as they are read (512,000 bytes, 1009), and
nothing a client sends raises out of the reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import WebSocket

from domain.openshock.hub_link import hub_link_id
from domain.openshock.live_control import (
    ActiveFrame,
    LiveRefusal,
    LiveRights,
    Refused,
    decide_frame,
    hold_seconds,
)
from domain.openshock.values import ShockerControl
from gateways.openshock.live_frames import (
    INVALID_JSON,
    Answer,
    Frames,
    LiveFrame,
    Malformed,
    Pong,
    exclusive_message,
    latency_message,
    ping_message,
    read_request,
    response,
    tps_message,
)
from gateways.openshock.live_ticks import LiveHubs
from gateways.openshock.socket_auth import SocketCaller
from infra.store.view_reader import ViewReader
from projections.openshock_live_access import (
    LIVE_ACCESS_VIEWS,
    LiveAccess,
    LiveChange,
    LiveNotice,
    live_access,
)

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 512_000
PING_SECONDS = 5.0
_MAX_LATENCY_MS = 65535
# How long a session waits before reading its rights again when the views did not answer.
_RETRY_SECONDS = 1.0

Clock = Callable[[], float]


@dataclass(frozen=True)
class _Ending:
    code: int
    reason: str
    goodbye: str | None = None  # a last message before the close frame


_CLIENT_LEFT = _Ending(1000, "")
_MALFORMED = _Ending(1007, INVALID_JSON)
_TOO_BIG = _Ending(1009, f"Message over {MAX_MESSAGE_BYTES} bytes")
_HUB_GONE = _Ending(1000, "Hub is disconnected", response("DeviceNotConnected"))


class LiveSocket:
    """One accepted live-control socket: its reader, its pings, what the log tells it."""

    def __init__(
        self,
        websocket: WebSocket,
        caller: SocketCaller,
        access: LiveAccess,
        tps: int,
        hubs: LiveHubs,
        views: ViewReader,
        clock: Clock,
    ) -> None:
        self._websocket = websocket
        self._user_id = str(caller.caller.user_id)
        token = caller.caller.token
        self._token_control: ShockerControl | None = None if token is None else token.control
        self._hub_id = access.hub_id
        self._rights: dict[str, LiveRights] = dict(access.rights)
        self._tps = tps
        self._hubs = hubs
        self._views = views
        self._clock = clock
        self._keys = {self._hub_id, str(hub_link_id(self._hub_id)), *access.hub_shockers}
        if token is not None:
            self._keys.add(token.token_id)
        self._send_lock = asyncio.Lock()
        self._ended: asyncio.Future[_Ending] = asyncio.get_running_loop().create_future()
        # The real gateway's ping stopwatch starts with the socket: a first Pong is
        # measured from there even before any Ping.
        self._ping_sent: float | None = time.monotonic()
        self._refresh_wanted = False
        self._refresher: asyncio.Task[None] | None = None

    async def serve(self) -> None:
        self._hubs.join(self._hub_id)
        self._hubs.listen(self._keys, self)
        reader = asyncio.create_task(self._read())
        pinger = asyncio.create_task(self._ping())
        try:
            await self._send(tps_message(self._tps))
            await self._send(response("DeviceConnected"))
            ending = await self._ended
        finally:
            self._hubs.unlisten(self._keys, self)
            self._hubs.leave(self._hub_id)
            for task in (reader, pinger, self._refresher):
                if task is not None:
                    task.cancel()
            for task in (reader, pinger, self._refresher):
                if task is not None:
                    with contextlib.suppress(BaseException):
                        await task
        if ending is not _CLIENT_LEFT:
            await self._close(ending)

    # --- endings ---

    def _end(self, ending: _Ending) -> None:
        if not self._ended.done():
            self._ended.set_result(ending)

    async def credential_ended(self, reason: str) -> None:
        self._end(_Ending(1008, f"Unauthorized: {reason}"))

    async def _close(self, ending: _Ending) -> None:
        # The client may be gone already: nothing is owed to it then.
        with contextlib.suppress(Exception):
            async with self._send_lock:
                if ending.goodbye is not None:
                    await self._websocket.send_text(ending.goodbye)
                await self._websocket.close(code=ending.code, reason=ending.reason)

    async def _send(self, text: str) -> None:
        try:
            async with self._send_lock:
                await self._websocket.send_text(text)
        except Exception:
            self._end(_CLIENT_LEFT)

    # --- what the log tells ---

    def notice(self, notice: LiveNotice) -> None:
        if notice.change is LiveChange.HUB_GONE:
            self._end(_HUB_GONE)
        elif notice.change is LiveChange.TOKEN:
            if self._token_control is not None:
                self._token_control = notice.control or ShockerControl()
        else:
            self._refresh_wanted = True
            if self._refresher is None:
                self._refresher = asyncio.get_running_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        try:
            while self._refresh_wanted:
                self._refresh_wanted = False
                try:
                    await self._views.fresh_views(*LIVE_ACCESS_VIEWS)
                    access = await self._views.query(live_access, self._user_id, self._hub_id)
                except Exception as exc:
                    log.info("live rights for hub %s not read again yet: %s", self._hub_id, exc)
                    self._refresh_wanted = True
                    await asyncio.sleep(_RETRY_SECONDS)
                    continue
                self._rights = {} if access is None else dict(access.rights)
                if access is not None:
                    shockers = {*access.hub_shockers}
                    known = self._keys - {self._hub_id, str(hub_link_id(self._hub_id))}
                    self._hubs.listen(shockers - known, self)
                    self._keys |= shockers
        finally:
            self._refresher = None

    # --- the client ---

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            self._ping_sent = time.monotonic()
            await self._send(ping_message(self._clock()))

    async def _read(self) -> None:
        try:
            while True:
                message = await self._websocket.receive()
                if message["type"] == "websocket.disconnect":
                    self._end(_CLIENT_LEFT)
                    return
                raw: str | bytes | None = message.get("text")
                if raw is None:
                    raw = message.get("bytes") or b""
                if _too_big(raw):
                    self._end(_TOO_BIG)
                    return
                request = read_request(raw)
                if isinstance(request, Malformed):
                    self._end(_MALFORMED)
                    return
                if isinstance(request, Answer):
                    await self._send(response(request.response_type))
                elif isinstance(request, Pong):
                    await self._pong()
                elif isinstance(request, Frames):
                    await self._frames(request.frames)
        except Exception as exc:
            # The transport ended the socket under us (a reset, the server stopping).
            log.debug("live socket for hub %s ended: %s", self._hub_id, exc)
            self._end(_CLIENT_LEFT)

    async def _pong(self) -> None:
        if self._ping_sent is None:
            return  # a Pong nobody asked for
        latency = min(round((time.monotonic() - self._ping_sent) * 1000), _MAX_LATENCY_MS)
        self._ping_sent = None
        await self._send(latency_message(latency))

    async def _frames(self, frames: tuple[LiveFrame, ...]) -> None:
        now = self._clock()
        hold = hold_seconds(self._tps)
        for frame in frames:
            decided = decide_frame(
                self._rights.get(frame.shocker_id),
                frame.type,
                frame.intensity,
                self._token_control,
                self._hubs.exclusive_until(frame.shocker_id),
                now,
            )
            if isinstance(decided, Refused):
                if decided.reason is LiveRefusal.SHOCKER_EXCLUSIVE and decided.until is not None:
                    await self._send(exclusive_message(decided.until))
                else:
                    await self._send(response(decided.reason.value))
            else:
                self._hubs.hold(
                    self._hub_id,
                    frame.shocker_id,
                    ActiveFrame(frame.type, decided, now + hold),
                )


def _too_big(raw: str | bytes) -> bool:
    # A str's length in characters is at most its length in UTF-8 bytes, at least a quarter.
    if len(raw) > MAX_MESSAGE_BYTES:
        return True
    if isinstance(raw, str) and len(raw) * 4 > MAX_MESSAGE_BYTES:
        return len(raw.encode()) > MAX_MESSAGE_BYTES
    return False
