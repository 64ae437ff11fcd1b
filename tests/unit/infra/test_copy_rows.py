"""Which view statements go through COPY, and which batches of them: only shapes whose
set-wise form leaves the rows that running them one by one leaves."""

from __future__ import annotations

import pytest

from infra.store.copy_rows import copy_plan

AUDIT = (
    "INSERT INTO view_audit (position, event_type, payload) VALUES (?, ?, ?)"
    " ON CONFLICT (position) DO NOTHING"
)
DEVICE_REGISTERED = (
    "INSERT INTO view_device_access (aggregate_id, device_identifier, public_key, known,"
    " position) VALUES (?, ?, NULL, 0, ?) ON CONFLICT (aggregate_id) DO NOTHING"
)
KEY_SET = (
    "UPDATE view_device_access SET public_key = ?, known = 0, position = ? WHERE aggregate_id = ?"
)
UPSERT = (
    "INSERT INTO positions (projection, log_partition, position) VALUES (?, ?, ?)"
    " ON CONFLICT (projection, log_partition) DO UPDATE SET position = excluded.position"
)


def test_an_insert_keeps_its_constants_and_conflict_clause_and_its_rows_order() -> None:
    plan = copy_plan(DEVICE_REGISTERED)
    assert plan is not None
    assert plan.staged == ("aggregate_id", "device_identifier", "position")
    assert plan.write == (
        "INSERT INTO view_device_access (aggregate_id, device_identifier, public_key, known,"
        " position) SELECT aggregate_id, device_identifier, NULL, 0, position FROM {staging}"
        " ORDER BY hubline_copy_order ON CONFLICT (aggregate_id) DO NOTHING"
    )
    # DO NOTHING: a repeated key is fine, the first row stays as it would one by one.
    assert plan.accepts([("a", "d1", 1), ("a", "d2", 2)])


def test_an_update_joins_the_staged_rows_on_its_keys() -> None:
    plan = copy_plan(KEY_SET)
    assert plan is not None
    assert plan.staged == ("public_key", "position", "aggregate_id")
    assert plan.write == (
        "UPDATE view_device_access AS view_row SET public_key = staged.public_key, known = 0,"
        " position = staged.position FROM {staging} AS staged"
        " WHERE view_row.aggregate_id = staged.aggregate_id"
    )


@pytest.mark.parametrize("sql", [KEY_SET, UPSERT])
def test_a_batch_that_repeats_a_key_of_an_update_or_upsert_stays_row_by_row(sql: str) -> None:
    plan = copy_plan(sql)
    assert plan is not None
    assert plan.accepts([("k1", 1, "a"), ("k2", 2, "b")])
    if sql == KEY_SET:
        assert not plan.accepts([("k1", 1, "a"), ("k2", 2, "a")])
    else:
        assert not plan.accepts([("p", 0, 1), ("p", 0, 2)])


def test_rows_of_another_length_stay_row_by_row() -> None:
    plan = copy_plan(AUDIT)
    assert plan is not None
    assert not plan.accepts([(1, "t", "{}", "extra")])


@pytest.mark.parametrize(
    "sql",
    [
        # A placeholder inside an expression: its type would come from the expression.
        "UPDATE counts SET kept = kept - ? WHERE owner_id = ?",
        "INSERT INTO t (a, b) VALUES (?, lower(?))",
        # A quoted constant is text in a SELECT list, of the column's type in VALUES.
        "INSERT INTO t (a, b) VALUES (?, 'x')",
        # A key that is also set could move a row under a later row's key.
        "UPDATE t SET k = ? WHERE k = ?",
        # Placeholders or a subquery in the conflict clause.
        "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = ?",
        "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = (SELECT 1)",
        # An upsert on a constraint name: its key columns are not known here.
        "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT ON CONSTRAINT t_a DO UPDATE SET b = 1",
        "UPDATE t SET a = ? WHERE b > ?",
        "UPDATE t SET a = ?",
        "DELETE FROM t WHERE a = ?",
        "INSERT INTO t (a) SELECT a FROM u WHERE b = ?",
    ],
)
def test_other_shapes_stay_row_by_row(sql: str) -> None:
    assert copy_plan(sql) is None
