"""One process at a time creates tables: PostgreSQL's CREATE TABLE IF NOT EXISTS races.

When the server, relay and workers start together, concurrent `IF NOT EXISTS` creations
of one table can still collide on the catalog's unique index; a session advisory lock
around schema set-up makes them take turns.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

_LOCK_KEY = 0x4855424C  # "HUBL"


@contextmanager
def schema_lock(database_url: str | None) -> Iterator[None]:
    if database_url is None:
        yield  # SQLite serialises writers itself
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
