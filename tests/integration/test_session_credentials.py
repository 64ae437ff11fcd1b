"""What a websocket session is opened with: the credential it depends on, and when it expires."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.context import CommandContext
from domain.identity.commands import RevokeTokenGrant, StartTokenGrant
from domain.principals.commands import IssueApiToken, RevokeApiToken
from infra.identity.credentials import mint_token
from infra.identity.session_credential import RevocableCredential
from infra.root.services import Services
from infra.settings import Settings

OPERATOR = CommandContext(actor_id="test", actor_kind="system")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Services]:
    running = Services(Settings.load({"data_dir": tmp_path / "data"}, environ={}))
    running.signing_keys.ensure()
    yield running
    running.store.close()


def test_an_api_token_session_depends_on_the_token_and_ends_at_its_expiry(hub: Services) -> None:
    token, token_hash = mint_token()
    expires_at = datetime.now(UTC) + timedelta(minutes=5)
    token_id = hub.bus.execute_now(
        IssueApiToken(
            name="t",
            token_hash=token_hash,
            permissions=("deviceAuth:read",),
            expires_at=expires_at,
            context=OPERATOR,
        )
    )
    authenticated = hub.authenticator.authenticate(token)
    assert authenticated is not None
    credential = authenticated.credential
    assert credential.revocable == RevocableCredential("api_token", str(token_id))
    assert credential.expires_at == expires_at.timestamp()
    assert hub.authenticator.is_active(credential.revocable)
    hub.bus.execute_now(RevokeApiToken(token_id=token_id, context=OPERATOR))
    assert not hub.authenticator.is_active(credential.revocable)


def test_an_access_token_session_depends_on_its_grant_and_ends_at_exp(hub: Services) -> None:
    grant_id = uuid.uuid4()
    hub.bus.execute_now(
        StartTokenGrant(
            grant_id=grant_id,
            client_id="client",
            subject="subject",
            scope="openid restapi",
            grant_type="password",
            access_token_id="jti",
            refresh_token_hash=None,
            refresh_expires_at=datetime.now(UTC) + timedelta(days=1),
            context=OPERATOR,
        )
    )
    minted = hub.access_tokens.mint("client", "subject", "openid restapi", str(grant_id))
    claims = hub.token_validator.validate(minted.token)
    credential = hub.token_validator.credential_of(claims)
    assert credential.revocable == RevocableCredential("grant", str(grant_id))
    assert credential.expires_at == claims["exp"]
    assert hub.authenticator.is_active(credential.revocable)
    hub.bus.execute_now(RevokeTokenGrant(grant_id=grant_id, reason="test", context=OPERATOR))
    assert not hub.authenticator.is_active(credential.revocable)
