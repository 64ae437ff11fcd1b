"""The pusher_cache view: the last event of each cache channel as the log holds it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.utils import get_topic

from domain.pusher.client_events import PusherClientEvent
from domain.pusher.trigger import PusherTrigger
from infra.store.event_store import record_from_event
from projections.pusher_cache_view import (
    CACHE_TTL_SECONDS,
    PusherCacheView,
    is_cache_channel,
    last_cache_event,
)
from projections.records import LogRecord
from tests.unit.projections.test_batched_views import SqliteTransaction, table_rows

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _trigger(position: int, channels: list[str], data: str, at: datetime = T0) -> LogRecord:
    trigger = PusherTrigger(
        app_id="1", channels=channels, name="story", data=data, socket_id=None, meta={}
    )
    (event,) = trigger.collect_events()
    record = record_from_event(position, event, get_topic(type(event)))
    return record._replace(timestamp=at)


def _client_event(position: int, channel: str, data: Any, user_id: str | None) -> LogRecord:
    sent = PusherClientEvent(
        app_id="1", channel=channel, name="client-wave", data=data, socket_id="1.1",
        user_id=user_id, meta={},
    )  # fmt: skip
    (event,) = sent.collect_events()
    return record_from_event(position, event, get_topic(type(event)))._replace(timestamp=T0)


def _view() -> tuple[PusherCacheView, sqlite3.Connection, SqliteTransaction]:
    view = PusherCacheView()
    connection = sqlite3.connect(":memory:")
    for statement in view.create_statements():
        connection.execute(statement)
    return view, connection, SqliteTransaction(connection)


def test_the_cache_prefixes_are_pushers() -> None:
    for name in ("cache-a", "private-cache-a", "private-encrypted-cache-a", "presence-cache-a"):
        assert is_cache_channel(name)
    for name in ("a-cache-", "private-a", "presence-a", "private-encrypted-a", "#server-to-user-1"):
        assert not is_cache_channel(name)


def test_each_cache_channel_keeps_its_last_event_with_the_time_it_was_written() -> None:
    view, _, tx = _view()
    later = T0 + timedelta(seconds=30)
    view.apply_batch(
        [
            _trigger(1, ["cache-a", "public", "private-cache-b"], '{"n":1}'),
            _trigger(2, ["cache-a"], '{"n":2}', later),
            _client_event(3, "presence-cache-c", {"x": [1, 2]}, "ann"),
            _trigger(4, ["plain"], "ignored"),
        ],
        tx,
    )
    a = last_cache_event(tx, "1", "cache-a")
    assert a is not None
    assert (a.name, a.data, a.user_id, a.position) == ("story", '{"n":2}', None, 2)
    assert a.written_at == later.timestamp()
    b = last_cache_event(tx, "1", "private-cache-b")
    assert b is not None and (b.data, b.written_at) == ('{"n":1}', T0.timestamp())
    # A client event's data is the JSON value its client sent; its sender goes with it.
    c = last_cache_event(tx, "1", "presence-cache-c")
    assert c is not None and (c.name, c.data, c.user_id) == ("client-wave", {"x": [1, 2]}, "ann")
    assert last_cache_event(tx, "1", "plain") is None
    assert last_cache_event(tx, "1", "public") is None
    assert last_cache_event(tx, "2", "cache-a") is None


def test_a_batch_ends_where_one_record_at_a_time_ends_in_one_statement() -> None:
    records = [
        _trigger(1, ["cache-a", "cache-b"], "1"),
        _trigger(2, ["cache-a"], "2"),
        _client_event(3, "private-cache-b", "x", None),
        _trigger(4, ["cache-b"], "4"),
    ]
    _, one_by_one, tx = _view()
    view = PusherCacheView()
    for record in records:
        view.apply(record, tx)
    batched_view, batched, batched_tx = _view()
    batched_view.apply_batch(records, batched_tx)
    assert table_rows(batched) == table_rows(one_by_one)
    upserts = [calls for sql, calls in batched_tx.calls if sql.startswith("INSERT")]
    assert upserts == [3]


def test_an_older_event_applied_late_does_not_replace_a_newer_one() -> None:
    # With several log partitions, a worker may apply another aggregate's older trigger later.
    view, _, tx = _view()
    view.apply_batch([_trigger(9, ["cache-a"], "newer")], tx)
    view.apply_batch([_trigger(5, ["cache-a"], "older")], tx)
    found = last_cache_event(tx, "1", "cache-a")
    assert found is not None and (found.data, found.position) == ("newer", 9)


def test_rows_older_than_the_ttl_are_pruned_as_the_log_moves_on() -> None:
    view, connection, tx = _view()
    view.apply_batch([_trigger(1, ["cache-old"], "old")], tx)
    hour_later = T0 + timedelta(seconds=CACHE_TTL_SECONDS + 120)
    view.apply_batch([_trigger(2, ["cache-new"], "new", hour_later)], tx)
    assert last_cache_event(tx, "1", "cache-old") is None
    assert last_cache_event(tx, "1", "cache-new") is not None
    assert len(table_rows(connection)["view_pusher_cache"]) == 1
