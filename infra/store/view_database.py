"""The database that holds read models and their positions: SQLite or PostgreSQL."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol, runtime_checkable

from psycopg import Connection
from psycopg_pool import ConnectionPool

from infra.settings import Settings
from infra.store.copy_rows import COPY_MIN_ROWS, copy_plan
from infra.store.schema_lock import schema_lock
from projections.view_store import Projection, ViewTransaction

log = logging.getLogger(__name__)

_POSITIONS = (
    "CREATE TABLE IF NOT EXISTS projection_positions ("
    " projection TEXT NOT NULL, log_partition INTEGER NOT NULL, position BIGINT NOT NULL,"
    " PRIMARY KEY (projection, log_partition))"
)
_VERSIONS = (
    "CREATE TABLE IF NOT EXISTS projection_versions ("
    " projection TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)


@runtime_checkable
class SecondaryIndexes(Protocol):
    """A view whose indexes serve only its queries, so that a long catch-up may drop them and
    build them once at the head. `create_statements` must create them too (IF NOT EXISTS):
    a process that dies in between leaves them to the next start's `ensure`."""

    def index_statements(self) -> list[str]: ...

    def drop_index_statements(self) -> list[str]: ...


class _BatchingTransaction:
    """Runs a run of the same statement as one `executemany`: a projection applying a batch
    of events mostly repeats one INSERT or UPDATE. Order is kept: a different statement, a
    read or the commit sends what is pending first."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._sql: str | None = None
        self._params: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if sql != self._sql:
            self.flush()
            self._sql = sql
        self._params.append(tuple(params))

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        self.flush()
        if params:
            self._many(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.flush()
        self._cursor.execute(self._native(sql), tuple(params))
        return list(self._cursor.fetchall())

    def flush(self) -> None:
        if self._sql is None:
            return
        sql, params = self._sql, self._params
        self._sql, self._params = None, []
        if len(params) == 1:
            self._cursor.execute(self._native(sql), params[0])
        else:
            self._many(sql, params)

    def _many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(self._native(sql), params)

    def _native(self, sql: str) -> str:
        return sql


class _SqliteTransaction(_BatchingTransaction):
    pass


class _PostgresTransaction(_BatchingTransaction):
    """A long run of one INSERT or UPDATE (a catch-up's batch) goes through COPY and a
    staging table (infra/store/copy_rows.py), in this same transaction; a few rows (live
    writes) stay pipelined statements."""

    def __init__(
        self,
        cursor: Any,
        outside_pipeline: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        super().__init__(cursor)
        self._outside_pipeline = outside_pipeline
        self._staged = 0

    def _many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        if len(params) >= COPY_MIN_ROWS:
            plan = copy_plan(sql)
            if plan is not None and plan.accepts(params):
                with self._outside_pipeline():
                    plan.run(self._cursor, f"hubline_copy_{self._staged}", params)
                self._staged += 1
                return
        self._cursor.executemany(self._native(sql), params)

    def _native(self, sql: str) -> str:
        return _pg(sql)


class _Pipeline:
    """A connection's pipeline mode, which a transaction may leave and enter again: COPY
    cannot run in a pipeline. Leaving it waits for what was queued (one round trip)."""

    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn
        self._entered: AbstractContextManager[Any] | None = None

    def __enter__(self) -> _Pipeline:
        entered = self._conn.pipeline()
        entered.__enter__()
        self._entered = entered
        return self

    def __exit__(self, *exc: Any) -> None:
        entered, self._entered = self._entered, None
        if entered is not None:
            entered.__exit__(*exc)

    @contextmanager
    def left(self) -> Iterator[None]:
        self.__exit__(None, None, None)
        try:
            yield
        finally:
            self.__enter__()


def _pg(sql: str) -> str:
    # Projections write `?` placeholders; none of their SQL has a literal `?` or `%`.
    return sql.replace("?", "%s")


class ViewDatabase:
    def __init__(self, settings: Settings) -> None:
        self._url = settings.database
        self._pool: ConnectionPool | None = None
        self._local = threading.local()
        if self._url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self._path = str(settings.read_model_sqlite_path)
        else:
            self._pool = ConnectionPool(self._url, min_size=1, max_size=8, open=True)
        with schema_lock(self._url), self.transaction() as tx:
            tx.execute(_POSITIONS)
            tx.execute(_VERSIONS)

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[ViewTransaction]:
        if self._pool is None:
            with self._sqlite_transaction(write) as sqlite_tx:
                yield sqlite_tx
            return
        # Pipeline mode: statements go out without waiting for each answer, so applying
        # a batch of events costs a few round trips instead of one per statement. Entered
        # inside the transaction (BEGIN and COMMIT are a round trip each either way: psycopg
        # syncs around a transaction entered in a pipeline), so that COPY can leave it.
        with (
            self._pool.connection() as conn,
            conn.transaction(),
            _Pipeline(conn) as pipeline,
            conn.cursor() as pg_cursor,
        ):
            pg_tx = _PostgresTransaction(pg_cursor, pipeline.left)
            yield pg_tx
            pg_tx.flush()

    @contextmanager
    def _schema_transaction(self) -> Iterator[ViewTransaction]:
        """For DDL: on PostgreSQL without pipeline mode. A DROP makes psycopg deallocate the
        connection's prepared statements, which in a pipeline can race with the statements
        queued beside it ("prepared statement _pg3_N does not exist" a transaction later)."""
        if self._pool is None:
            with self._sqlite_transaction(write=True) as sqlite_tx:
                yield sqlite_tx
            return
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as pg_cursor:
            pg_tx = _PostgresTransaction(pg_cursor)
            yield pg_tx
            pg_tx.flush()

    @contextmanager
    def _sqlite_transaction(self, write: bool) -> Iterator[_SqliteTransaction]:
        db = self._sqlite()
        cur = db.cursor()
        # Readers take no write lock: WAL lets them read while the projection writes.
        cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            sqlite_tx = _SqliteTransaction(cur)
            yield sqlite_tx
            sqlite_tx.flush()
        except BaseException:
            db.rollback()
            raise
        else:
            db.commit()
        finally:
            cur.close()

    def _sqlite(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # A lost tail after power loss only means re-applying events: the position
            # is saved in the same transaction as the view, so they are lost together.
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def ensure(self, projection: Projection, may_rebuild: bool = True) -> bool:
        """Create the view's tables; if they were made by another version of the view, drop
        them and its positions first, so that it is rebuilt from position 0. True if so."""
        with schema_lock(self._url), self._schema_transaction() as tx:
            self.lock(tx, projection.name)
            rows = tx.fetchall(
                "SELECT version FROM projection_versions WHERE projection = ?",
                (projection.name,),
            )
            # No row: a new view, or one from before versions were kept (taken as current).
            stale = bool(rows) and int(rows[0][0]) != projection.version
            if stale and not may_rebuild:
                log.warning(
                    "view %s is at version %s, this node's code at %s: a projection worker of"
                    " this release rebuilds it",
                    projection.name,
                    rows[0][0],
                    projection.version,
                )
                return False
            if stale:
                log.warning(
                    "view %s is at version %s, the code at %s: rebuilding it from position 0",
                    projection.name,
                    rows[0][0],
                    projection.version,
                )
                self._drop(tx, projection)
            self._create(tx, projection)
            tx.execute(
                "INSERT INTO projection_versions (projection, version) VALUES (?, ?)"
                " ON CONFLICT (projection) DO UPDATE SET version = excluded.version",
                (projection.name, projection.version),
            )
        return stale

    def lock(self, tx: ViewTransaction, name: str) -> None:
        """Serialise writers of one projection (two workers, or a rebuild beside a worker)."""
        if self._pool is not None:
            tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"projection:{name}",))
        # SQLite: BEGIN IMMEDIATE already holds the database's single write lock.

    def positions(self, name: str, tx: ViewTransaction | None = None) -> dict[int, int]:
        if tx is None:
            with self.transaction() as own:
                return self.positions(name, own)
        rows = tx.fetchall(
            "SELECT log_partition, position FROM projection_positions WHERE projection = ?",
            (name,),
        )
        return {int(r[0]): int(r[1]) for r in rows}

    def all_positions(self, tx: ViewTransaction | None = None) -> dict[str, dict[int, int]]:
        """Every projection's positions by partition, in one read."""
        if tx is None:
            with self.transaction(write=False) as own:
                return self.all_positions(own)
        found: dict[str, dict[int, int]] = {}
        rows = tx.fetchall("SELECT projection, log_partition, position FROM projection_positions")
        for name, partition, position in rows:
            found.setdefault(str(name), {})[int(partition)] = int(position)
        return found

    def save_position(self, tx: ViewTransaction, name: str, partition: int, position: int) -> None:
        tx.execute(
            "INSERT INTO projection_positions (projection, log_partition, position)"
            " VALUES (?, ?, ?) ON CONFLICT (projection, log_partition)"
            " DO UPDATE SET position = excluded.position",
            (name, partition, position),
        )

    def reset(self, projection: Projection) -> None:
        with self._schema_transaction() as tx:
            self.lock(tx, projection.name)
            self._drop(tx, projection)
            self._create(tx, projection)

    def drop_indexes(self, projection: Projection) -> None:
        if not isinstance(projection, SecondaryIndexes):
            return
        with self._schema_transaction() as tx:
            self.lock(tx, projection.name)
            for statement in projection.drop_index_statements():
                tx.execute(statement)

    def build_indexes(self, projection: Projection) -> None:
        if not isinstance(projection, SecondaryIndexes):
            return
        with self._schema_transaction() as tx:
            self.lock(tx, projection.name)
            for statement in projection.index_statements():
                tx.execute(statement)

    def _create(self, tx: ViewTransaction, projection: Projection) -> None:
        for statement in projection.create_statements():
            if self._pool is None:
                # On SQLite only an INTEGER PRIMARY KEY (64 bits there) is the table's rowid;
                # a BIGINT one is a second B-tree beside it, written on every insert.
                statement = statement.replace(" BIGINT PRIMARY KEY", " INTEGER PRIMARY KEY")
            tx.execute(statement)

    def _drop(self, tx: ViewTransaction, projection: Projection) -> None:
        for statement in projection.drop_statements():
            tx.execute(statement)
        tx.execute("DELETE FROM projection_positions WHERE projection = ?", (projection.name,))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
