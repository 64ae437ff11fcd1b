"""Live websocket sessions by the credential each was opened with: a session ends within
seconds of its credential's revocation, and when the credential expires.

A revocation is an event in the log and every node's log feed sees every event, so a change
to an API token or grant that live sessions depend on marks it for a re-check at the next
tick (`session_recheck_seconds`), whichever node revoked it. A credential nothing was heard
about is re-checked every `UNCHANGED_RECHECK_SECONDS` all the same, in case the feed stalls
(a stalled feed also delivers nothing to the sessions). Expiry is a timer per session at
the credential's own expiry time. One loop serves every session of the process and runs
only while some session depends on a revocable credential, so an idle session costs an
entry here and a timer, not a store read per tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from infra.identity.session_credential import RevocableCredential, SessionCredential
from infra.log.feed import LogFeed
from projections.records import LogRecord

log = logging.getLogger(__name__)

REVOKED = "credential revoked"
EXPIRED = "credential expired"

# Ends a session in its protocol's way, given why (REVOKED or EXPIRED).
SessionEnder = Callable[[str], Awaitable[None]]
# Whether a credential is still neither revoked nor expired; may read the store.
ActiveCheck = Callable[[RevocableCredential], bool]


class LiveSession:
    def __init__(self, credential: SessionCredential, end: SessionEnder) -> None:
        self.credential = credential
        self.end = end
        self.closed = False
        self.expiry: asyncio.TimerHandle | None = None


@dataclass(eq=False)
class _Watch:
    credential: RevocableCredential
    checked_at: float
    sessions: set[LiveSession] = field(default_factory=set)
    # The log showed a change to the credential since it was last checked.
    changed: bool = True


class LiveSessions:
    UNCHANGED_RECHECK_SECONDS = 30.0

    def __init__(self, feed: LogFeed, is_active: ActiveCheck, recheck_seconds: float) -> None:
        self._is_active = is_active
        self._recheck_seconds = recheck_seconds
        self._watched: dict[str, _Watch] = {}
        self._ending: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        feed.add_listener(self._on_records)

    def open(self, credential: SessionCredential, end: SessionEnder) -> LiveSession:
        """Watch an accepted session (on the event loop); `close` it however it ends."""
        session = LiveSession(credential, end)
        loop = asyncio.get_running_loop()
        if credential.expires_at is not None:
            delay = max(0.0, credential.expires_at - time.time())
            session.expiry = loop.call_later(delay, self._end, session, EXPIRED)
        revocable = credential.revocable
        if revocable is not None:
            watch = self._watched.get(revocable.id)
            if watch is None:
                # Checked at the next tick: it may have been revoked after it was validated
                # and before this watch existed to hear of it.
                watch = self._watched[revocable.id] = _Watch(revocable, time.monotonic())
            watch.sessions.add(session)
            if self._task is None:
                self._task = loop.create_task(self._run(), name="LiveSessions")
        return session

    def close(self, session: LiveSession) -> None:
        session.closed = True
        if session.expiry is not None:
            session.expiry.cancel()
        revocable = session.credential.revocable
        watch = self._watched.get(revocable.id) if revocable is not None else None
        if watch is not None:
            watch.sessions.discard(session)
            if not watch.sessions:
                del self._watched[watch.credential.id]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_records(self, records: Sequence[LogRecord]) -> None:
        for record in records:
            watch = self._watched.get(record.aggregate_id)
            if watch is not None:
                watch.changed = True

    async def _run(self) -> None:
        try:
            while self._watched:
                await asyncio.sleep(self._recheck_seconds)
                await self._recheck()
        finally:
            self._task = None

    async def _recheck(self) -> None:
        now = time.monotonic()
        due = [
            watch
            for watch in self._watched.values()
            if watch.changed or now - watch.checked_at >= self.UNCHANGED_RECHECK_SECONDS
        ]
        if not due:
            return
        for watch in due:
            watch.changed = False
            watch.checked_at = now
        answers = await asyncio.to_thread(self._check, [watch.credential for watch in due])
        for watch, active in zip(due, answers, strict=True):
            if active is None:
                watch.changed = True  # the store did not answer: ask again next tick
            elif not active:
                for session in list(watch.sessions):
                    self._end(session, REVOKED)

    def _check(self, credentials: list[RevocableCredential]) -> list[bool | None]:
        answers: list[bool | None] = []
        for credential in credentials:
            try:
                answers.append(self._is_active(credential))
            except Exception as exc:
                log.warning("could not re-check %s %s: %s", credential.kind, credential.id, exc)
                answers.append(None)
        return answers

    def _end(self, session: LiveSession, reason: str) -> None:
        if session.closed:
            return
        self.close(session)
        task = asyncio.get_running_loop().create_task(_ended(session, reason))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)


async def _ended(session: LiveSession, reason: str) -> None:
    try:
        await session.end(reason)
    except Exception as exc:
        log.debug("could not end a session (%s); it is closing anyway", exc)
