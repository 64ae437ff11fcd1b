"""GrantStatus: a revocation is never hidden by what was read before it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from infra.identity.grant_status import GrantStatus
from projections.records import LogRecord


class Store:
    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.reads = 0

    def is_revoked(self, grant_id: str) -> bool:
        self.reads += 1
        return grant_id in self.revoked


def record(aggregate_id: str, event_type: str) -> LogRecord:
    return LogRecord(1, aggregate_id, 2, event_type, datetime.now(UTC), None, {})


def test_a_valid_grant_is_read_from_the_store_once() -> None:
    store = Store()
    status = GrantStatus(store.is_revoked)
    assert not status.is_revoked("g")
    assert not status.is_revoked("g")
    assert store.reads == 1


def test_a_local_commit_makes_a_revocation_visible_at_once() -> None:
    store = Store()
    status = GrantStatus(store.is_revoked)
    assert not status.is_revoked("g")
    store.revoked.add("g")
    status.forget(["g", "some-other-aggregate"])
    assert status.is_revoked("g")


def test_a_grant_changed_on_another_node_is_forgotten_when_the_log_shows_it() -> None:
    store = Store()
    status = GrantStatus(store.is_revoked)
    assert not status.is_revoked("g")
    store.revoked.add("g")
    status.forget_changed([record("x", "Thermostat.ModeChanged")])
    assert not status.is_revoked("g")  # nothing about g yet: still the kept answer
    status.forget_changed([record("g", "TokenGrant.Revoked")])
    assert status.is_revoked("g")


def test_a_valid_answer_expires_even_if_the_feed_is_silent() -> None:
    store = Store()
    status = GrantStatus(store.is_revoked, max_age=0.0)
    assert not status.is_revoked("g")
    store.revoked.add("g")
    assert status.is_revoked("g")


def test_a_revocation_is_remembered_without_reading_again() -> None:
    store = Store()
    status = GrantStatus(store.is_revoked, max_age=0.0)
    store.revoked.add("g")
    assert status.is_revoked("g")
    assert status.is_revoked("g")
    assert store.reads == 1


def test_a_read_that_overlaps_a_revocation_is_not_kept() -> None:
    store = Store()
    reading, may_answer = threading.Event(), threading.Event()

    def slow_read(grant_id: str) -> bool:
        answer = store.is_revoked(grant_id)
        reading.set()
        may_answer.wait(5)
        return answer

    status = GrantStatus(slow_read)
    answers: list[bool] = []
    reader = threading.Thread(target=lambda: answers.append(status.is_revoked("g")))
    reader.start()
    assert reading.wait(5)
    store.revoked.add("g")
    status.forget(["g"])  # the commit lands while the read above is in flight
    may_answer.set()
    reader.join(5)
    assert answers == [False]  # that read began before the revocation
    assert status.is_revoked("g")  # but its answer was not kept


def test_the_oldest_grants_are_evicted_beyond_the_bound() -> None:
    store = Store()
    status = GrantStatus(store.is_revoked, max_entries=2)
    for grant_id in ("a", "b", "c"):
        status.is_revoked(grant_id)
    status.is_revoked("a")
    assert store.reads == 4
