"""Registered OAuth clients: who may ask for tokens, how, and where to send the user back."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]

GRANT_TYPES = frozenset(
    {
        "authorization_code",
        "refresh_token",
        "password",
        "client_credentials",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
)


class OAuthClient(Aggregate):
    @staticmethod
    def create_id(client_id: str, **_: Any) -> UUID:
        return oauth_client_id(client_id)

    @event("Registered")
    def __init__(
        self,
        client_id: str,
        name: str,
        public: bool,
        redirect_uris: list[str],
        grant_types: list[str],
        scopes: list[str],
        secret_hash: str | None,
        meta: Metadata,
        id_token_alg: str = "RS256",  # noqa: S107 - an algorithm name
    ) -> None:
        self.client_id = client_id
        self.id_token_alg = id_token_alg
        self.name = name
        self.public = public
        self.redirect_uris = list(redirect_uris)
        self.grant_types = list(grant_types)
        self.scopes = list(scopes)
        # Current secret, and earlier ones that stay valid until their grace ends.
        self.secret_hash = secret_hash
        # Hash -> valid until (plain data, so that the state survives a snapshot).
        self.retiring_secrets: dict[str, datetime] = {}

    @event("SecretRotated")
    def rotate_secret(
        self, secret_hash: str, previous_valid_until: datetime, meta: Metadata
    ) -> None:
        if self.secret_hash is not None:
            self.retiring_secrets = {
                h: until
                for h, until in self.retiring_secrets.items()
                if until > previous_valid_until
            } | {self.secret_hash: previous_valid_until}
        self.secret_hash = secret_hash

    def secret_hashes_valid_at(self, now: datetime) -> list[str]:
        valid = [h for h, until in self.retiring_secrets.items() if now < until]
        return ([self.secret_hash] if self.secret_hash else []) + valid


def oauth_client_id(client_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:oauth-client:{client_id}")
