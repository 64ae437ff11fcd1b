"""What a projection needs of the database that holds its views.

Projections write portable SQL with `?` placeholders; the adapter (infra/) runs it
on SQLite or PostgreSQL inside the transaction that also saves the position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from projections.records import LogRecord


class ViewTransaction(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class Projection(Protocol):
    """Builds one read model from the log. Applying an event must only touch its own tables."""

    name: str
    # Raise it when the tables change: at start the view is dropped and rebuilt from 0.
    version: int

    def create_statements(self) -> list[str]: ...

    def drop_statements(self) -> list[str]: ...

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None: ...
