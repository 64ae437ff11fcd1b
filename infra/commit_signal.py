"""Commits announced across processes with PostgreSQL's LISTEN/NOTIFY.

A serve node announces each commit on a channel named after the log's topic; the relay
listens and publishes at once instead of finding the new events on its next idle poll.
The signal only saves waiting: a lost one costs the relay's polling interval, never an
event, so announcing never fails a command and listening reconnects on its own.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)


def channel_for(topic: str) -> str:
    return f"hubline_log:{topic}"[:63]  # PostgreSQL truncates identifiers to 63 bytes


class CommitAnnouncer:
    def __init__(self, database_url: str, topic: str) -> None:
        self._url = database_url
        self._channel = channel_for(topic)
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def announce(self, position: int) -> None:
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=2)
                self._conn.execute("SELECT pg_notify(%s, %s)", (self._channel, str(position)))
            except psycopg.Error:
                log.warning("could not announce commit %s; the relay will poll", position)
                self._conn = None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class CommitListener:
    """Sets `event` whenever a commit is announced; runs on its own daemon thread."""

    def __init__(self, database_url: str, topic: str, event: threading.Event) -> None:
        self._url = database_url
        self._channel = channel_for(topic)
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
