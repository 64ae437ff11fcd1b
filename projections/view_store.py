"""What a projection needs of the database that holds its views.

Projections write portable SQL with `?` placeholders; the adapter (infra/) runs it
on SQLite or PostgreSQL inside the transaction that also saves the position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from projections.records import LogRecord


class ViewTransaction(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class Projection(Protocol):
    """Builds one read model from the log. Applying an event must only touch its own tables.

    A projection may also define `apply_batch(records, tx)`: the same as `apply` for each
    record in order, done its own way (the runner prefers it when catching up)."""

    name: str
    # Raise it when the tables change: at start the view is dropped and rebuilt from 0.
    version: int

    def create_statements(self) -> list[str]: ...

    def drop_statements(self) -> list[str]: ...

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None: ...


class _ByAggregate:
    """Statements filed under the aggregate they are for; see `apply_by_aggregate`."""

    def __init__(self) -> None:
        self.aggregate_id = ""
        self._seen: dict[str, int] = {}
        # Round n holds every aggregate's n-th statement, grouped by SQL.
        self._rounds: list[dict[str, list[Sequence[Any]]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        seen = self._seen.get(self.aggregate_id, 0)
        self._seen[self.aggregate_id] = seen + 1
        if seen == len(self._rounds):
            self._rounds.append({})
        statements = self._rounds[seen].get(sql)
        if statements is None:
            self._rounds[seen][sql] = [params]
        else:
            statements.append(params)

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        for one in params:
            self.execute(sql, one)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise TypeError("a view applied by aggregate writes only: its statements are deferred")

    def send(self, tx: ViewTransaction) -> None:
        for statements in self._rounds:
            for sql, params in statements.items():
                tx.executemany(sql, params)


def apply_by_aggregate(
    apply: Callable[[LogRecord, ViewTransaction], None],
    records: Sequence[LogRecord],
    tx: ViewTransaction,
) -> None:
    """`apply` over records for a view whose every row belongs to one aggregate and whose
    `apply` only writes: statements for different aggregates then commute, so a batch's are
    sent grouped by SQL, one `executemany` each, every aggregate's own still in their order.
    A batch that registers devices and sets their keys is two statements, not one per event."""
    batch = _ByAggregate()
    for record in records:
        batch.aggregate_id = record.aggregate_id
        apply(record, batch)
    batch.send(tx)
