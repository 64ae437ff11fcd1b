"""An access token answered on the event loop only when nothing about it needs checking again.

`AccessTokenValidator.known_claims` lets a SENZ request skip the hop to a worker thread; it
must answer None (so the full check runs) whenever that check could say something else: a
token never verified, one now expired, a grant whose state is not known or was forgotten
after a change, a revoked grant.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.context import CommandContext
from domain.identity.commands import RevokeTokenGrant, StartTokenGrant
from infra.identity.access_tokens import InvalidAccessToken
from infra.root.services import Services
from infra.settings import Settings

OPERATOR = CommandContext(actor_id="test", actor_kind="system")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Services]:
    running = Services(Settings.load({"data_dir": tmp_path / "data"}, environ={}))
    running.signing_keys.ensure()
    yield running
    running.store.close()


def test_a_token_is_known_only_after_a_full_check(hub: Services) -> None:
    token = hub.access_tokens.mint("client", "subject", "restapi", grant_id="g1").token
    validator = hub.token_validator
    assert validator.known_claims(token) is None
    claims = validator.validate(token)
    assert validator.known_claims(token) == claims
    # A copy each time: a caller changing its claims changes nothing kept.
    known = validator.known_claims(token)
    assert known is not None
    known["sub"] = "someone else"
    assert validator.known_claims(token) == claims


def test_a_forged_token_is_never_known(hub: Services) -> None:
    token = hub.access_tokens.mint("client", "subject", "restapi").token
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidAccessToken):
        hub.token_validator.validate(forged)
    assert hub.token_validator.known_claims(forged) is None


def test_an_expired_token_is_not_known(hub: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    token = hub.access_tokens.mint("client", "subject", "restapi").token
    hub.token_validator.validate(token)
    later = time.time() + hub.access_tokens.lifetime + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert hub.token_validator.known_claims(token) is None
    with pytest.raises(InvalidAccessToken):
        hub.token_validator.validate(token)


def test_a_grant_changed_since_is_checked_again(hub: Services) -> None:
    token = hub.access_tokens.mint("client", "subject", "restapi", grant_id="g2").token
    validator = hub.token_validator
    validator.validate(token)
    assert validator.known_claims(token) is not None
    validator.grants.forget(["g2"])  # what a commit to the grant, here or elsewhere, does
    assert validator.known_claims(token) is None
    validator.validate(token)  # read again: still not revoked
    assert validator.known_claims(token) is not None


def test_a_revoked_grant_is_never_answered_from_what_is_known(hub: Services) -> None:
    grant_id = uuid.uuid4()
    hub.bus.execute_now(
        StartTokenGrant(
            grant_id=grant_id,
            client_id="client",
            subject="subject",
            scope="restapi",
            grant_type="password",
            access_token_id="jti",
            refresh_token_hash=None,
            refresh_expires_at=datetime.now(UTC) + timedelta(days=1),
            context=OPERATOR,
        )
    )
    token = hub.access_tokens.mint("client", "subject", "restapi", str(grant_id)).token
    validator = hub.token_validator
    validator.validate(token)
    assert validator.known_claims(token) is not None
    hub.bus.execute_now(RevokeTokenGrant(grant_id=grant_id, reason="test", context=OPERATOR))
    assert validator.known_claims(token) is None
    with pytest.raises(InvalidAccessToken):
        validator.validate(token)
    assert validator.grants.known(str(grant_id)) is True
    assert validator.known_claims(token) is None
