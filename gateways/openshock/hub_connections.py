"""The hubs connected to this node, and what the log tells them (who is told what:
projections/openshock_hub_deliveries.py).

Every node reads every record; the node holding a hub's session sends it its command lists,
triggers and update requests, and ends the session when the hub connects again elsewhere or
its token stops being its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

from fastapi import WebSocket

from domain.openshock.control import HubCommand
from domain.openshock.hub_link import TriggerKind
from gateways.openshock import hub_frames
from infra.log.feed import LogFeed
from infra.transport.websocket_protocol import SEND_FRAMES, binary_frame
from projections.openshock_hub_deliveries import (
    HubCommands,
    HubCredentialEnded,
    HubDelivery,
    HubOtaInstall,
    HubSessionStarted,
    HubTriggered,
    hub_deliveries,
)
from projections.records import LogRecord

log = logging.getLogger(__name__)

# Frames waiting for a hub that does not read; past this it is cut off.
MAX_QUEUED_FRAMES = 1000
_CLOSE_SECONDS = 5.0
_REPLACED = "Hub is connecting from a different location"
# How long part of a request's items waits for the rest (they were committed together).
_PARTIAL_SECONDS = 1.0


@dataclass(eq=False, slots=True)
class HubSession:
    hub_id: str
    session_id: str
    schema: int  # 2: /2/ws/hub, 1: /1/ws/device
    firmware_version: str
    websocket: WebSocket
    # The hash of the token it connected with, checked again when the hub's token may have
    # changed (the hash: what is kept is no credential).
    token_hash: str
    ending: bool = False
    end_reason: str | None = None
    # Made at the first frame: an empty deque is half a KiB, and most hubs are idle.
    _outbox: deque[bytes] | None = None
    _sender: asyncio.Task[None] | None = None
    _closing: asyncio.Task[None] | None = None
    # The task serving the socket (it makes the session), interrupted when the session is
    # ended while it waits for the hub's next frame: a dead hub never sends one.
    _handler: asyncio.Task[Any] | None = field(default_factory=asyncio.current_task)
    _receiving: bool = False
    _interrupted: bool = False

    def send(self, frame: bytes) -> None:
        """Writes a frame, or queues it where the write would wait; never waits (called from
        the log feed and from timers)."""
        if self.ending:
            return
        if self._outbox is None:
            # The transport's own write where it takes frames (infra/transport): no task.
            extensions = self.websocket.scope.get("extensions") or {}
            write = extensions.get(SEND_FRAMES, {}).get("write")
            if write is not None and write(binary_frame(frame)):
                return
            self._outbox = deque()
        if len(self._outbox) >= MAX_QUEUED_FRAMES:
            self.end(1008, "The hub does not read what it is sent")
            return
        self._outbox.append(frame)
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            outbox = self._outbox
            while outbox and not self.ending:
                await self.websocket.send_bytes(outbox.popleft())
        except Exception:
            self.end(1011, "could not write to the hub")
        finally:
            self._sender = None
            if not self._outbox:
                self._outbox = None  # an idle hub keeps none

    def end(self, code: int, reason: str) -> None:
        """Closes the session (once); a handler waiting for the hub's next frame stops waiting."""
        if self.ending:
            return
        self.ending = True
        self.end_reason = reason
        self._closing = asyncio.get_running_loop().create_task(self._close(code, reason))
        if self._receiving and self._handler is not None:
            self._interrupted = True
            self._handler.cancel()

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(code, reason[:120]), _CLOSE_SECONDS)

    async def next_message(self) -> dict[str, Any] | None:
        """The next ASGI message, or None once the session is ended.

        Waiting costs no task of its own (an idle hub is mostly this wait): `end` cancels
        the waiting handler instead, and the cancellation it asked for is taken back here.
        """
        if self.ending:
            return None
        self._receiving = True
        try:
            return cast(dict[str, Any], await self.websocket.receive())
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self._interrupted or task is None:
                raise
            task.uncancel()
            return None
        finally:
            self._receiving = False

    async def closed(self) -> None:
        """Waits until the close frame is out, after the session ended."""
        if self._sender is not None:
            self._sender.cancel()
        if self._closing is not None:
            with contextlib.suppress(Exception):
                await self._closing


class HubConnections:
    def __init__(self, feed: LogFeed, hub_of_token_hash: Callable[[str], UUID | None]) -> None:
        self._by_hub: dict[str, HubSession] = {}
        self._hub_of_token_hash = hub_of_token_hash
        self._checks: set[asyncio.Task[None]] = set()
        # A request's items for a hub that came in part so far: (hub, request) -> commands.
        self._partial: dict[tuple[str, str], list[HubCommand]] = {}
        feed.add_listener(self._on_records)

    def add(self, session: HubSession) -> None:
        older = self._by_hub.get(session.hub_id)
        if older is not None:
            older.end(1000, _REPLACED)
        self._by_hub[session.hub_id] = session

    def remove(self, session: HubSession) -> None:
        if self._by_hub.get(session.hub_id) is session:
            del self._by_hub[session.hub_id]

    def __len__(self) -> int:
        return len(self._by_hub)

    def reconnect(self, hub_id: str, session_id: str) -> None:
        """A session of this node that no longer counts (recorded as disconnected): the hub
        is asked to connect again (1012: service restart)."""
        session = self._by_hub.get(hub_id)
        if session is not None and session.session_id == session_id:
            session.end(1012, "Service restart")

    def _on_records(self, records: Sequence[LogRecord]) -> None:
        if not self._by_hub:
            return
        for delivery in hub_deliveries(records):
            session = self._by_hub.get(delivery.hub_id)
            if session is None:
                continue
            if isinstance(delivery, HubCommands) and delivery.request_id is not None:
                whole = self._whole(delivery)
                if whole is not None:
                    _deliver(session, whole)
            elif isinstance(delivery, HubCredentialEnded):
                # A session opened with the new token (the hub paired, then connected before
                # this node's feed got there) stays: the token itself is asked.
                check = asyncio.get_running_loop().create_task(self._recheck(session, delivery))
                self._checks.add(check)
                check.add_done_callback(self._checks.discard)
            else:
                _deliver(session, delivery)

    def _whole(self, part: HubCommands) -> HubCommands | None:
        """The request's command list once all its items for the hub came (None: not yet)."""
        assert part.request_id is not None
        key = (part.hub_id, part.request_id)
        earlier = self._partial.pop(key, None)
        came = (earlier or []) + list(part.commands)
        if len(came) >= part.expected:
            return HubCommands(part.hub_id, tuple(came))
        if earlier is None:
            # The rest is in the same commit, on its way; should it never come, what came
            # is sent rather than held.
            asyncio.get_running_loop().call_later(_PARTIAL_SECONDS, self._flush, key)
        self._partial[key] = came
        return None

    def _flush(self, key: tuple[str, str]) -> None:
        came = self._partial.pop(key, None)
        session = self._by_hub.get(key[0])
        if came and session is not None:
            _deliver(session, HubCommands(key[0], tuple(came)))

    async def _recheck(self, session: HubSession, ended: HubCredentialEnded) -> None:
        try:
            hub_id = await asyncio.to_thread(self._hub_of_token_hash, session.token_hash)
        except Exception:
            log.exception("could not check hub %s's token again", session.hub_id)
            return
        if hub_id is None or str(hub_id) != session.hub_id:
            session.end(1008, f"Unauthorized: {ended.reason}")


def _deliver(session: HubSession, delivery: HubDelivery) -> None:
    if isinstance(delivery, HubCommands):
        legacy_ids = session.schema == 1 and hub_frames.shifts_998dr_ids(session.firmware_version)
        session.send(
            hub_frames.command_list(delivery.commands, session.schema, legacy_998dr_ids=legacy_ids)
        )
    elif isinstance(delivery, HubTriggered):
        frame = _trigger_frame(session, delivery.kind)
        if frame is not None:
            session.send(frame)
    elif isinstance(delivery, HubOtaInstall):
        session.send(hub_frames.ota_request(delivery.version, session.schema))
    elif isinstance(delivery, HubSessionStarted) and delivery.session_id != session.session_id:
        session.end(1000, _REPLACED)


def _trigger_frame(session: HubSession, kind: int) -> bytes | None:
    if session.schema == 2:
        return hub_frames.trigger(kind)
    # The V1 schema knows the captive portal only; restart and emergency stop are dropped,
    # as the real gateway drops them for old firmware.
    if kind in (TriggerKind.CAPTIVE_PORTAL_ENABLE, TriggerKind.CAPTIVE_PORTAL_DISABLE):
        return hub_frames.captive_portal_v1(kind == TriggerKind.CAPTIVE_PORTAL_ENABLE)
    return None
