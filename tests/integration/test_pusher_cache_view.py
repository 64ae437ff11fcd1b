"""The pusher_cache view on SQLite and PostgreSQL, applied by the projection runner exactly
once, as a serve node reads it (infra/pusher/cache_channel_view.py)."""

from __future__ import annotations

import pytest
from eventsourcing.utils import get_topic

from domain.errors import ViewsBehind
from domain.pusher.trigger import PusherTrigger
from infra.pusher.cache_channel_view import CacheChannelView
from infra.store.event_store import record_from_event
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase
from projections.pusher_cache_view import PusherCacheView
from projections.records import LogRecord
from tests.integration.running import settings_for


def _trigger(position: int, channel: str, data: str) -> LogRecord:
    trigger = PusherTrigger(
        app_id="7", channels=[channel, "public"], name="story", data=data, socket_id=None, meta={}
    )
    (event,) = trigger.collect_events()
    return record_from_event(position, event, get_topic(type(event)))


def test_the_view_is_applied_once_and_read_after_it_caught_up(
    deployment: dict[str, str],
) -> None:
    views = ViewDatabase(settings_for(deployment))
    try:
        runner = ProjectionRunner(views, [PusherCacheView()])
        head = 3
        reader = CacheChannelView(views, runner, lambda: head, wait_seconds=0.2)
        runner.apply([_trigger(1, "cache-a", "one"), _trigger(2, "private-cache-b", "two")])
        # Behind the head it was asked at: a row is answered, a missing one is not a miss.
        found = reader.last_event("7", "cache-a")
        assert found is not None and (found.data, found.position) == ("one", 1)
        with pytest.raises(ViewsBehind):
            reader.last_event("7", "cache-none")
        newer = _trigger(3, "cache-a", "three")
        runner.apply([newer])
        # Sent again (a relay's re-send): skipped by position.
        runner.apply(
            [
                _trigger(2, "private-cache-b", "two"),
                newer._replace(payload={**newer.payload, "data": "again"}),
            ]
        )
        assert reader.last_event("7", "cache-none") is None
        found = reader.last_event("7", "cache-a")
        assert found is not None and (found.data, found.position) == ("three", 3)
        assert found.written_at == newer.timestamp.timestamp()
        other = reader.last_event("7", "private-cache-b")
        assert other is not None and other.data == "two"
    finally:
        views.close()
