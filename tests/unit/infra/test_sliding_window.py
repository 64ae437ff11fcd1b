"""The sliding window counts as ASP.NET's SlidingWindowRateLimiter: whole segments leave."""

from __future__ import annotations

from infra.limits.sliding_window import MemorySlidingWindow


def test_admits_up_to_the_limit_within_the_window() -> None:
    window = MemorySlidingWindow(limit=3, window_seconds=60, segments=6)
    assert [window.acquire_at("k", 100.0 + i) for i in range(3)] == [0.0, 0.0, 0.0]
    wait = window.acquire_at("k", 103.0)
    # The first requests were in the segment [100, 110): admitted again once it leaves at 160.
    assert wait == 57.0


def test_a_segment_leaves_whole_when_the_window_slides_past_it() -> None:
    window = MemorySlidingWindow(limit=2, window_seconds=60, segments=6)
    assert window.acquire_at("k", 5.0) == 0.0  # segment 0
    assert window.acquire_at("k", 15.0) == 0.0  # segment 1
    assert window.acquire_at("k", 59.0) > 0  # both still in the window
    assert window.acquire_at("k", 60.0) == 0.0  # segment 0 left; segment 1 and this one count
    assert window.acquire_at("k", 65.0) > 0


def test_keys_are_counted_apart() -> None:
    window = MemorySlidingWindow(limit=1, window_seconds=60, segments=6)
    assert window.acquire_at("a", 1.0) == 0.0
    assert window.acquire_at("b", 1.0) == 0.0
    assert window.acquire_at("a", 2.0) > 0
