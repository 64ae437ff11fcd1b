"""Live sessions end when the log shows their credential revoked, and at its expiry."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from gateways.live_sessions import EXPIRED, REVOKED, LiveSessions
from infra.identity.session_credential import RevocableCredential, SessionCredential
from infra.log.feed import LogFeed
from projections.records import LogRecord

TICK = 0.02


def record(aggregate_id: str) -> LogRecord:
    return LogRecord(1, aggregate_id, 2, "TokenGrant.Revoked", datetime.now(UTC), None, {})


class Credentials:
    """What the store says; counts how often it was asked."""

    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.asked: list[str] = []

    def is_active(self, credential: RevocableCredential) -> bool:
        self.asked.append(credential.id)
        return credential.id not in self.revoked


def grant(grant_id: str, expires_at: float | None = None) -> SessionCredential:
    return SessionCredential(RevocableCredential("grant", grant_id), expires_at)


async def settle() -> None:
    await asyncio.sleep(TICK * 5)


def test_a_revocation_the_log_shows_ends_every_session_of_that_credential() -> None:
    async def run() -> None:
        feed, store = LogFeed(), Credentials()
        sessions = LiveSessions(feed, store.is_active, TICK)
        ended: list[str] = []

        async def end(reason: str) -> None:
            ended.append(reason)

        first, second = sessions.open(grant("g1"), end), sessions.open(grant("g1"), end)
        other = sessions.open(grant("g2"), end)
        await settle()  # new credentials are checked once
        assert sorted(store.asked) == ["g1", "g2"] and ended == []
        store.asked.clear()
        await settle()
        assert store.asked == []  # nothing changed: no store read per tick
        store.revoked.add("g1")
        feed.publish([record("g1"), record("unrelated")])
        await settle()
        assert ended == [REVOKED, REVOKED] and store.asked == ["g1"]
        assert first.closed and second.closed and not other.closed
        sessions.close(first)  # the gateway's own close afterwards is harmless
        sessions.close(other)
        await settle()
        assert sessions._task is None  # the loop stops with no session left

    asyncio.run(run())


def test_a_credential_revoked_before_its_watch_began_is_caught_by_the_first_check() -> None:
    async def run() -> None:
        store = Credentials()
        store.revoked.add("g1")
        sessions = LiveSessions(LogFeed(), store.is_active, TICK)
        ended: list[str] = []

        async def end(reason: str) -> None:
            ended.append(reason)

        sessions.open(grant("g1"), end)
        await settle()
        assert ended == [REVOKED]

    asyncio.run(run())


def test_a_session_ends_at_its_credentials_expiry() -> None:
    async def run() -> None:
        sessions = LiveSessions(LogFeed(), Credentials().is_active, 60.0)
        ended: list[tuple[str, float]] = []

        async def end(reason: str) -> None:
            ended.append((reason, time.time()))

        expires_at = time.time() + 0.3
        session = sessions.open(grant("g1", expires_at), end)
        kept = sessions.open(grant("g2", time.time() + 0.3), end)
        sessions.close(kept)  # closed first: its timer is cancelled
        await asyncio.sleep(0.6)
        assert [reason for reason, _ in ended] == [EXPIRED] and session.closed
        assert expires_at <= ended[0][1] < expires_at + 0.2
        await sessions.stop()

    asyncio.run(run())


def test_a_store_that_does_not_answer_is_asked_again() -> None:
    async def run() -> None:
        calls: list[str] = []

        def failing(credential: RevocableCredential) -> bool:
            calls.append(credential.id)
            if len(calls) == 1:
                raise OSError("database unreachable")
            return False

        sessions = LiveSessions(LogFeed(), failing, TICK)
        ended: list[str] = []

        async def end(reason: str) -> None:
            ended.append(reason)

        sessions.open(grant("g1"), end)
        await settle()
        assert calls == ["g1", "g1"] and ended == [REVOKED]

    asyncio.run(run())
