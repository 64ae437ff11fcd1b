"""Commits announced through PostgreSQL's LISTEN/NOTIFY reach a listener in another connection."""

from __future__ import annotations

import threading
import uuid

from infra.log.commit_signal import CommitAnnouncer, CommitListener
from tests.conftest import POSTGRES_URL, require_services


def test_an_announced_commit_wakes_the_listener_of_that_topic_only() -> None:
    require_services()
    assert POSTGRES_URL is not None
    topic = f"hubline.test.{uuid.uuid4().hex[:8]}"
    mine, others = threading.Event(), threading.Event()
    listeners = [
        CommitListener(POSTGRES_URL, topic, mine),
        CommitListener(POSTGRES_URL, f"{topic}.other", others),
    ]
    for listener in listeners:
        listener.start()
    announcer = CommitAnnouncer(POSTGRES_URL, topic)
    try:
        # The listener may not be listening yet: announce until it hears one.
        for _ in range(50):
            announcer.announce(7)
            if mine.wait(0.1):
                break
        assert mine.is_set()
        assert not others.is_set()
    finally:
        announcer.close()
        for listener in listeners:
            listener.stop()


def test_announcing_without_a_database_never_raises() -> None:
    announcer = CommitAnnouncer("postgresql://nobody@127.0.0.1:1/none", "t")
    announcer.announce(1)  # logged, not raised: a commit must not fail for its signal
    announcer.close()
