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
    """Sends the announcements from its own thread: the bus thread only sets a flag, so a
    slow or unreachable database never holds up a commit's answer. Commits that land
    while one announcement is on its way are announced together."""

    def __init__(self, database_url: str, topic: str) -> None:
        self._url = database_url
        self._channel = channel_for(topic)
        self._pending = threading.Event()
        self._position = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="commit-announcer", daemon=True)
        self._thread.start()

    def announce(self, position: int) -> None:
        self._position = position
        self._pending.set()

    def close(self) -> None:
        self._stopping.set()
        self._pending.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        while True:
            self._pending.wait()
            if self._stopping.is_set():
                break
            self._pending.clear()
            position = self._position
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self._url, autocommit=True, connect_timeout=2)
                conn.execute("SELECT pg_notify(%s, %s)", (self._channel, str(position)))
            except psycopg.Error:
                log.warning("could not announce commit %s; the relay will poll", position)
                conn = None
                self._stopping.wait(1.0)  # a database that is down is not retried in a loop
        if conn is not None:
            conn.close()


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
