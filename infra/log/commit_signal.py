"""Commits heard across processes with PostgreSQL's LISTEN/NOTIFY.

eventsourcing's PostgreSQL recorder sends a NOTIFY on the events table's channel inside
every append transaction, so it is delivered when the commit is, by whichever process
wrote (a serve node, the CLI), at no extra round trip. The relay listens and publishes
at once instead of finding the new events on its next idle poll. The signal only saves
waiting: a lost one costs the relay's polling interval, never an event, and listening
reconnects on its own.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from psycopg import sql

from infra.store.event_store import EventStore

log = logging.getLogger(__name__)


def commit_channel(store: EventStore) -> str:
    """The channel the store's recorder notifies on each commit (PostgreSQL only)."""
    channel = getattr(store.app.recorder, "channel_name", None)
    if not isinstance(channel, str):
        raise ValueError("commits are announced only by the PostgreSQL store")
    return channel


class CommitListener:
    """Sets `event` whenever a commit is announced; runs on its own daemon thread."""

    def __init__(self, database_url: str, channel: str, event: threading.Event) -> None:
        self._url = database_url
        self._channel = channel
        self._event = event
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="commit-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=2) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self._event.set()
            except psycopg.Error:
                log.warning("commit listener lost its connection; reconnecting")
                self._stopping.wait(1.0)
