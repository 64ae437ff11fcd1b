"""The context recorded on every event: who, from where, and the caller's correlation id."""

from __future__ import annotations

from starlette.requests import Request

from domain.principals.permissions import Principal
from infra.request_context import command_context


def request(
    *headers: tuple[bytes, bytes], client: tuple[str, int] | None = ("10.1.2.3", 5)
) -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/",
            "headers": list(headers),
            "client": client,
        }
    )


def test_the_callers_correlation_id_is_kept() -> None:
    context = command_context(request((b"x-correlation-id", b"abc"), (b"x-request-id", b"r")))
    assert context.correlation_id == "abc"


def test_a_request_id_stands_in_for_a_missing_or_empty_correlation_id() -> None:
    assert command_context(request((b"x-request-id", b"r1"))).correlation_id == "r1"
    empty = request((b"x-correlation-id", b""), (b"x-request-id", b"r2"))
    assert command_context(empty).correlation_id == "r2"


def test_the_first_of_a_repeated_header_counts() -> None:
    twice = request((b"x-correlation-id", b"first"), (b"x-correlation-id", b"second"))
    assert command_context(twice).correlation_id == "first"


def test_a_correlation_id_is_bounded_and_read_as_latin_1() -> None:
    long = command_context(request((b"x-correlation-id", b"\xe9" * 500))).correlation_id
    assert long == "\u00e9" * 200


def test_without_one_each_request_gets_its_own() -> None:
    first, second = command_context(request()), command_context(request())
    assert first.correlation_id and second.correlation_id
    assert first.correlation_id != second.correlation_id


def test_who_and_from_where() -> None:
    actor = Principal("token-1", "api_token", frozenset())
    context = command_context(request(), actor)
    assert (context.actor_id, context.actor_kind, context.source_address) == (
        "token-1",
        "api_token",
        "10.1.2.3",
    )
    anonymous = command_context(request(client=None))
    assert (anonymous.actor_id, anonymous.source_address) == ("anonymous", None)
