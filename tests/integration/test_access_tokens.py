"""Access-token validation against tokens signed with the provider's own keys."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from infra.identity.access_tokens import InvalidAccessToken
from infra.root.services import Services
from infra.settings import Settings


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Services]:
    running = Services(Settings.load({"data_dir": tmp_path / "data"}, environ={}))
    running.signing_keys.ensure()
    yield running
    running.store.close()


def resigned(hub: Services, token: str, **changes: Any) -> str:
    """The same token with changed claims, signed again with our real key."""
    claims = jwt.decode(token, options={"verify_signature": False}) | changes
    key = hub.signing_keys.signing_key("RS256")
    return jwt.encode(
        claims, key.private, algorithm="RS256", headers={"kid": key.kid, "typ": "at+jwt"}
    )


def test_a_genuine_token_validates(hub: Services) -> None:
    token = hub.access_tokens.mint("client", "subject", "openid").token
    assert hub.access_tokens.validate(token)["sub"] == "subject"


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "https://someone-else.example.com/resources"},
        {"iss": "https://another-issuer.example.com"},
        {"exp": int(time.time()) - 3600},
        {"nbf": int(time.time()) + 3600},
    ],
)
def test_our_signature_is_not_enough(hub: Services, changes: dict[str, Any]) -> None:
    token = hub.access_tokens.mint("client", "subject", "openid").token
    with pytest.raises(InvalidAccessToken):
        hub.access_tokens.validate(resigned(hub, token, **changes))


def test_an_id_token_is_not_an_access_token(hub: Services) -> None:
    key = hub.signing_keys.signing_key("RS256")
    now = int(time.time())
    id_token = jwt.encode(
        {
            "iss": hub.access_tokens.issuer,
            "aud": hub.access_tokens.audience,
            "sub": "s",
            "iat": now,
            "exp": now + 60,
            "jti": "j",
        },
        key.private,
        algorithm="RS256",
        headers={"kid": key.kid, "typ": "JWT"},
    )
    with pytest.raises(InvalidAccessToken, match="typ"):
        hub.access_tokens.validate(id_token)
