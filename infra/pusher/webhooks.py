"""Delivers the outbox of Pusher webhooks (projections/pusher_webhooks.py) to the apps.

One loop in its own thread and event loop, so that no endpoint, however slow, touches the
fan-out: it claims due rows (a claim lasts CLAIM_SECONDS, so that several projection
workers may each run a sender without posting a row twice while it is in flight), posts
them batched per app and endpoint as Pusher does (`{"time_ms", "events": [...]}`, signed
with the app secret in X-Pusher-Signature), deletes what a 2xx acknowledged, and puts the
rest back with exponential backoff until Pusher's five minutes are over. Every attempt is
recorded in `pusher_webhook_attempts` for operators (`hubline apps webhooks APP_ID`).

httpx: the async HTTP client our tests already used, maintained, with per-request
timeouts and connection pooling; the standard library has no async client.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import orjson

from domain.pusher.apps import AppConfig
from domain.pusher.pusher_app import PusherApp, app_config, pusher_app_id
from infra.identity.secret_box import SecretBox
from infra.pusher.credentials import open_secret
from infra.store.aggregates import AggregateLoader
from infra.store.view_database import ViewDatabase
from projections.pusher_webhooks import (
    MAX_AGE_SECONDS,
    OUTBOX,
    OUTBOX_COLUMNS,
    OutboxRow,
    outbox_row,
)
from projections.view_store import ViewTransaction

log = logging.getLogger(__name__)

ATTEMPTS = "pusher_webhook_attempts"
CLAIM_SECONDS = 30.0
# Sockudo's batching: up to this many events in one request.
BATCH_EVENTS = 100
CLAIM_ROWS = 1000
REQUEST_TIMEOUT_SECONDS = 10.0
# Backoff after the n-th failed attempt: 1 s, 2 s, 4 s … up to a minute (Pusher, Sockudo).
MAX_BACKOFF_SECONDS = 60.0
# Attempts are kept this long for operators to look at.
KEEP_ATTEMPTS_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class Attempt:
    app_id: str
    url: str
    at_ms: int
    events: int
    # The HTTP status, or None when no answer came.
    status: int | None
    outcome: str  # "delivered", "retrying", "gave up", "no app"
    error: str


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def read_app(aggregates: AggregateLoader, box: SecretBox, app_id: str) -> AppConfig | None:
    """The app as it is now: read from its aggregate on every batch, since a worker process
    has no feed to tell it of a rotated secret (the loader reads only newer events)."""
    app = aggregates.get(PusherApp, pusher_app_id(app_id))
    return None if app is None else app_config(app, open_secret(box, app.secret))


class WebhookSender:
    def __init__(
        self,
        views: ViewDatabase,
        app: Callable[[str], AppConfig | None],
        poll_seconds: float = 0.2,
    ) -> None:
        self._views = views
        self._app = app
        self._poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        create_attempts_table(views)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pusher-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 5)

    def _run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        pruned = 0.0
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS) as client:
            while not self._stopping.is_set():
                try:
                    rows = await asyncio.to_thread(self._claim)
                    if rows:
                        await self._deliver(client, rows)
                    if time.monotonic() - pruned > 600:
                        pruned = time.monotonic()
                        await asyncio.to_thread(self._prune)
                except Exception:
                    log.exception("webhook delivery failed; retrying")
                    rows = []
                if not rows:
                    await asyncio.sleep(self._poll_seconds)

    def _claim(self) -> list[OutboxRow]:
        now = _now_ms()
        with self._views.transaction() as tx:
            # The outer condition is checked again on the row another worker may have just
            # claimed (PostgreSQL re-reads it after waiting for that worker's lock).
            found = tx.fetchall(
                f"UPDATE {OUTBOX} SET claimed_until_ms = ?"
                " WHERE due_ms <= ? AND claimed_until_ms <= ? AND (position, seq) IN"
                f" (SELECT position, seq FROM {OUTBOX} WHERE due_ms <= ? AND claimed_until_ms <= ?"
                f" ORDER BY position, seq LIMIT {CLAIM_ROWS})"
                f" RETURNING {OUTBOX_COLUMNS}",
                (now + int(CLAIM_SECONDS * 1000), now, now, now, now),
            )
        return sorted((outbox_row(r) for r in found), key=lambda r: (r.position, r.seq))

    async def _deliver(self, client: httpx.AsyncClient, rows: list[OutboxRow]) -> None:
        batches: dict[tuple[str, str], list[OutboxRow]] = {}
        for row in rows:
            batches.setdefault((row.app_id, row.url), []).append(row)
        posts = []
        for (app_id, url), batch in batches.items():
            for start in range(0, len(batch), BATCH_EVENTS):
                posts.append(self._post(client, app_id, url, batch[start : start + BATCH_EVENTS]))
        await asyncio.gather(*posts)

    async def _post(
        self, client: httpx.AsyncClient, app_id: str, url: str, rows: list[OutboxRow]
    ) -> None:
        app = await asyncio.to_thread(self._app, app_id)
        if app is None:
            await asyncio.to_thread(self._settle, rows, [], Attempt(
                app_id, url, _now_ms(), len(rows), None, "no app", "the app no longer exists"
            ))  # fmt: skip
            return
        body = orjson.dumps({"time_ms": _now_ms(), "events": [r.event for r in rows]})
        headers = {
            "Content-Type": "application/json",
            "X-Pusher-Key": app.key,
            "X-Pusher-Signature": signature(app.secret, body),
        }
        status: int | None = None
        error = ""
        try:
            answer = await client.post(url, content=body, headers=headers)
            status = answer.status_code
            if not 200 <= status < 300:
                error = answer.text[:200]
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:200]
        at = _now_ms()
        if status is not None and 200 <= status < 300:
            await asyncio.to_thread(
                self._settle, rows, [], Attempt(app_id, url, at, len(rows), status, "delivered", "")
            )
            return
        expired = [r for r in rows if at - r.time_ms > MAX_AGE_SECONDS * 1000]
        retried = [r for r in rows if r not in expired]
        outcome = "retrying" if retried else "gave up"
        log.warning("webhook to %s for app %s failed (%s): %s", url, app_id, status, error)
        await asyncio.to_thread(
            self._settle,
            expired,
            retried,
            Attempt(app_id, url, at, len(rows), status, outcome, error),
        )

    def _settle(self, done: list[OutboxRow], retried: list[OutboxRow], attempt: Attempt) -> None:
        """Deletes what is delivered (or given up), reschedules the rest, records the attempt."""
        with self._views.transaction() as tx:
            if done:
                tx.executemany(
                    f"DELETE FROM {OUTBOX} WHERE position = ? AND seq = ?",
                    [(r.position, r.seq) for r in done],
                )
            if retried:
                tx.executemany(
                    f"UPDATE {OUTBOX} SET attempts = attempts + 1, due_ms = ?,"
                    " claimed_until_ms = 0 WHERE position = ? AND seq = ?",
                    [(attempt.at_ms + _backoff_ms(r.attempts), r.position, r.seq) for r in retried],
                )
            tx.execute(
                f"INSERT INTO {ATTEMPTS} (app_id, url, at_ms, events, status, outcome, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    attempt.app_id,
                    attempt.url,
                    attempt.at_ms,
                    attempt.events,
                    attempt.status,
                    attempt.outcome,
                    attempt.error,
                ),
            )

    def _prune(self) -> None:
        with self._views.transaction() as tx:
            tx.execute(
                f"DELETE FROM {ATTEMPTS} WHERE at_ms < ?",
                (_now_ms() - int(KEEP_ATTEMPTS_SECONDS * 1000),),
            )


def create_attempts_table(views: ViewDatabase) -> None:
    with views.transaction() as tx:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {ATTEMPTS} (app_id TEXT NOT NULL, url TEXT NOT NULL,"
            " at_ms BIGINT NOT NULL, events INTEGER NOT NULL, status INTEGER,"
            " outcome TEXT NOT NULL, error TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {ATTEMPTS}_app ON {ATTEMPTS} (app_id, at_ms)")


def recent_attempts(views: ViewDatabase, app_id: str, limit: int = 50) -> list[Attempt]:
    """The app's latest delivery attempts, newest first: what an operator looks at."""
    with views.transaction(write=False) as tx:
        return attempts_in(tx, app_id, limit)


def attempts_in(tx: ViewTransaction, app_id: str, limit: int) -> list[Attempt]:
    """recent_attempts in a transaction of the caller's (the admin API's view reader)."""
    rows = tx.fetchall(
        f"SELECT app_id, url, at_ms, events, status, outcome, error FROM {ATTEMPTS}"
        " WHERE app_id = ? ORDER BY at_ms DESC LIMIT ?",
        (app_id, limit),
    )
    return [
        Attempt(str(a), str(u), int(t), int(n), None if s is None else int(s), str(o), str(e))
        for a, u, t, n, s, o, e in rows
    ]


def _backoff_ms(attempts: int) -> int:
    seconds = min(MAX_BACKOFF_SECONDS, 2.0**attempts)
    return int(seconds * 1000 * random.uniform(0.8, 1.2))


def _now_ms() -> int:
    return int(time.time() * 1000)
