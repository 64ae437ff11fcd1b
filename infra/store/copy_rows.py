"""Large runs of one view statement written through COPY on PostgreSQL.

A catch-up hands a view thousands of rows of the same INSERT or UPDATE. Sent one row at a
time (executemany, even pipelined) each row costs a statement on the server; copied into
a temporary staging table and written by one INSERT ... SELECT or UPDATE ... FROM, a row
costs a COPY line. The staging table lives in the caller's transaction (ON COMMIT DROP),
so the view's rows still commit or roll back with its position.

Only statements whose set-wise form gives exactly the rows that running them one by one in
order gives are planned; anything else (a placeholder inside an expression, a subquery,
a batch that touches one key twice where that would matter) is left to executemany:
  - INSERT ... VALUES (placeholders, NULL or integers) [ON CONFLICT ... DO NOTHING]: the
    staged rows are inserted in their order, so of two that conflict the first stays.
  - INSERT ... ON CONFLICT (columns) DO UPDATE ...: when no two rows share a conflict key
    (each existing row is then updated at most once, as one by one).
  - UPDATE t SET column = placeholder or constant, ... WHERE key = ? [AND key2 = ?]: when no
    two rows share a key and no key column is set (the rows then touch disjoint rows).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Below this many rows executemany is as cheap: leaving the pipeline, creating the staging
# table and the final statement cost about as much as a hundred pipelined rows (measured
# on audit rows: even at ~100, COPY 0.7x the time at 200-400, 0.5x from 800). Live writes,
# a few rows, never come near it.
COPY_MIN_ROWS = 200

# The staging table's extra column: a row's place in the batch, so that the final INSERT
# takes the rows in the order the view gave them.
_ORDER = "hubline_copy_order"

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# Values a staged statement may carry besides placeholders: their type is the column's
# in both forms (a quoted string would be text in a SELECT list, unknown in VALUES).
_CONSTANT = re.compile(r"(?i:NULL|TRUE|FALSE)|-?[0-9]+")
_INSERT = re.compile(
    rf"\s*INSERT\s+INTO\s+(?P<table>{_NAME})\s*\((?P<columns>[^()]*)\)"
    r"\s*VALUES\s*\((?P<values>[^()]*)\)\s*(?P<conflict>ON\s+CONFLICT\b.*)?",
    re.IGNORECASE | re.DOTALL,
)
_DO_NOTHING = re.compile(r"ON\s+CONFLICT\s*(\([^()]*\))?\s*DO\s+NOTHING\s*", re.IGNORECASE)
_DO_UPDATE = re.compile(
    r"ON\s+CONFLICT\s*\((?P<target>[^()]*)\)\s*DO\s+UPDATE\b.*", re.IGNORECASE | re.DOTALL
)
_UPDATE = re.compile(
    rf"\s*UPDATE\s+(?P<table>{_NAME})\s+SET\s+(?P<sets>.*?)\s+WHERE\s+(?P<where>.*)",
    re.IGNORECASE | re.DOTALL,
)
_ASSIGNMENT = re.compile(rf"\s*(?P<column>{_NAME})\s*=\s*(?P<value>.*?)\s*")
_KEY = re.compile(rf"\s*(?P<column>{_NAME})\s*=\s*\?\s*")
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


@dataclass(frozen=True)
class CopyPlan:
    """How to write a batch of one statement's rows through a staging table."""

    table: str
    # The target column each placeholder binds, in parameter order: the staging table's.
    staged: tuple[str, ...]
    # Parameter indexes that must not repeat within a batch; empty when repeats are fine.
    unique_key: tuple[int, ...]
    # The set-wise statement, `{staging}` standing for the staging table's name.
    write: str

    def accepts(self, rows: Sequence[Sequence[Any]]) -> bool:
        if any(len(row) != len(self.staged) for row in rows):
            return False
        if not self.unique_key:
            return True
        key = self.unique_key
        return len({tuple(row[i] for i in key) for row in rows}) == len(rows)

    def run(self, cursor: Any, staging: str, rows: Sequence[Sequence[Any]]) -> None:
        """Stage `rows` and write them, in the cursor's open transaction. The connection
        must not be in pipeline mode (psycopg cannot COPY in a pipeline)."""
        columns = ", ".join(self.staged)
        # prepare=False: the staging table is a new relation in every transaction.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {columns},"
            f" 0::bigint AS {_ORDER} FROM {self.table} WITH NO DATA",
            prepare=False,
        )
        with cursor.copy(f"COPY {staging} ({columns}, {_ORDER}) FROM STDIN") as copy:
            for order, row in enumerate(rows):
                copy.write_row((*row, order))
        cursor.execute(self.write.replace("{staging}", staging), prepare=False)


@lru_cache(maxsize=256)
def copy_plan(sql: str) -> CopyPlan | None:
    """The plan for a view statement (`?` placeholders), or None if its shape is not one
    whose set-wise form is known to equal running it row by row."""
    return _insert_plan(sql) or _update_plan(sql)


def _insert_plan(sql: str) -> CopyPlan | None:
    found = _INSERT.fullmatch(sql)
    if found is None:
        return None
    columns = _names(found["columns"])
    values = [v.strip() for v in found["values"].split(",")]
    if columns is None or len(columns) != len(values) or _ORDER in columns:
        return None
    staged: list[str] = []
    selected: list[str] = []
    for column, value in zip(columns, values, strict=True):
        if value == "?":
            staged.append(column)
            selected.append(column)
        elif _CONSTANT.fullmatch(value):
            selected.append(value)
        else:
            return None
    conflict = (found["conflict"] or "").strip()
    unique_key: tuple[int, ...] = ()
    if "?" in conflict or "select" in conflict.lower():
        return None
    if conflict and not _DO_NOTHING.fullmatch(conflict):
        update = _DO_UPDATE.fullmatch(conflict)
        target = _names(update["target"]) if update else None
        if not target or any(column not in staged for column in target):
            return None
        unique_key = tuple(staged.index(column) for column in target)
    if not staged:
        return None
    write = (
        f"INSERT INTO {found['table']} ({', '.join(columns)})"
        f" SELECT {', '.join(selected)} FROM {{staging}} ORDER BY {_ORDER} {conflict}"
    )
    return CopyPlan(found["table"], tuple(staged), unique_key, write.strip())


def _update_plan(sql: str) -> CopyPlan | None:
    found = _UPDATE.fullmatch(sql)
    if found is None:
        return None
    staged: list[str] = []
    assigned: list[str] = []
    assignments: list[str] = []
    for item in found["sets"].split(","):
        assignment = _ASSIGNMENT.fullmatch(item)
        if assignment is None:
            return None
        column, value = assignment["column"], assignment["value"]
        assigned.append(column)
        if value == "?":
            staged.append(column)
            assignments.append(f"{column} = staged.{column}")
        elif _CONSTANT.fullmatch(value):
            assignments.append(f"{column} = {value}")
        else:
            return None
    keys: list[str] = []
    for item in _AND.split(found["where"].strip()):
        key = _KEY.fullmatch(item)
        if key is None:
            return None
        keys.append(key["column"])
    # A key column that is set could move a row under a later row's key.
    if len(set(assigned + keys)) != len(assigned) + len(keys) or _ORDER in keys:
        return None
    write = (
        f"UPDATE {found['table']} AS view_row SET {', '.join(assignments)}"
        f" FROM {{staging}} AS staged"
        f" WHERE {' AND '.join(f'view_row.{k} = staged.{k}' for k in keys)}"
    )
    first_key = len(staged)
    unique_key = tuple(range(first_key, first_key + len(keys)))
    return CopyPlan(found["table"], (*staged, *keys), unique_key, write)


def _names(text: str) -> list[str] | None:
    names = [n.strip() for n in text.split(",")]
    if not all(re.fullmatch(_NAME, n) for n in names) or len(set(names)) != len(names):
        return None
    return names
