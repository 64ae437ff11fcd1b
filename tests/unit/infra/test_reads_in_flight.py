"""ReadsInFlight: each read is judged by the changes of its key since it began."""

from __future__ import annotations

from infra.identity.reads_in_flight import ReadsInFlight


def test_a_read_is_unchanged_if_no_change_came_while_it_ran() -> None:
    reads = ReadsInFlight()
    began = reads.begin("k")
    reads.changed("other")
    assert reads.end("k", began)


def test_a_change_spoils_only_the_reads_that_began_before_it() -> None:
    reads = ReadsInFlight()
    first = reads.begin("k")
    reads.changed("k")
    second = reads.begin("k")
    third = reads.begin("k")
    assert not reads.end("k", first)
    assert reads.end("k", second)
    # Reads overlapped throughout: the key never had none in flight.
    fourth = reads.begin("k")
    assert reads.end("k", third)
    assert reads.end("k", fourth)


def test_a_change_with_no_read_in_flight_is_not_remembered() -> None:
    reads = ReadsInFlight()
    reads.changed("k")
    assert reads.end("k", reads.begin("k"))
