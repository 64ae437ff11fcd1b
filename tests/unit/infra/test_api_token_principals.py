"""ApiTokenPrincipals: a cached token is never used past its revocation or its expiry."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import uuid4

from domain.principals.permissions import Principal
from infra.identity.api_token_principals import ApiTokenPrincipals, KnownToken
from infra.identity.session_credential import (
    Authenticated,
    RevocableCredential,
    SessionCredential,
)
from projections.records import LogRecord


def entry(read_at: float, expires_at: float | None = None) -> KnownToken:
    token_id = uuid4()
    principal = Principal(
        id=str(token_id), kind="api_token", permissions=frozenset(), credential_id=str(token_id)
    )
    credential = SessionCredential(RevocableCredential("api_token", str(token_id)), expires_at)
    return KnownToken(token_id, Authenticated(principal, credential), expires_at, read_at)


def read(cache: ApiTokenPrincipals, token_hash: str, known: KnownToken) -> None:
    began = cache.reading(str(known.token_id))
    cache.done_reading(str(known.token_id), token_hash, known, began)


def test_a_valid_token_is_kept_until_a_commit_touches_it() -> None:
    cache = ApiTokenPrincipals()
    known = entry(time.monotonic())
    read(cache, "h", known)
    assert cache.known("h") is known
    cache.forget(["some-other-aggregate", str(known.token_id)])
    assert cache.known("h") is None


def test_a_change_on_another_node_forgets_the_token() -> None:
    cache = ApiTokenPrincipals()
    known = entry(time.monotonic())
    read(cache, "h", known)
    cache.forget_changed(
        [LogRecord(1, str(known.token_id), 2, "ApiToken.Revoked", datetime.now(UTC), None, {})]
    )
    assert cache.known("h") is None


def test_an_expired_token_is_not_answered() -> None:
    cache = ApiTokenPrincipals()
    read(cache, "h", entry(time.monotonic(), expires_at=time.time() - 0.001))
    assert cache.known("h") is None


def test_an_entry_older_than_max_age_is_read_again() -> None:
    cache = ApiTokenPrincipals(max_age=30.0)
    read(cache, "h", entry(time.monotonic() - 31.0))
    assert cache.known("h") is None


def test_a_read_that_may_predate_a_revocation_is_not_kept() -> None:
    cache = ApiTokenPrincipals()
    known = entry(time.monotonic())
    began = cache.reading(str(known.token_id))
    cache.forget([str(known.token_id)])  # committed while the store read was under way
    cache.done_reading(str(known.token_id), "h", known, began)
    assert cache.known("h") is None
    read(cache, "h", known)  # the next read is kept again
    assert cache.known("h") is known


def test_reads_that_began_after_a_change_are_kept_while_older_ones_overlap() -> None:
    """Under load the reads of one token overlap without a gap: the one that began before
    the change is not kept, the ones after it are (before, none was until a gap came)."""
    cache = ApiTokenPrincipals()
    known = entry(time.monotonic())
    token_id = str(known.token_id)
    before = cache.reading(token_id)
    cache.forget([token_id])
    after = cache.reading(token_id)
    cache.done_reading(token_id, "h", known, before)
    assert cache.known("h") is None
    still_before = cache.reading(token_id)  # keeps a read in flight throughout
    cache.done_reading(token_id, "h", known, after)
    assert cache.known("h") is known
    cache.forget([token_id])
    cache.done_reading(token_id, "h", known, still_before)
    assert cache.known("h") is None


def test_the_cache_is_bounded() -> None:
    cache = ApiTokenPrincipals(max_entries=2)
    first = entry(time.monotonic())
    for token_hash, known in (("a", first), ("b", entry(time.monotonic()))):
        read(cache, token_hash, known)
    cache.known("a")  # used last, so "b" goes first
    read(cache, "c", entry(time.monotonic()))
    assert cache.known("b") is None
    assert cache.known("a") is first and cache.known("c") is not None
