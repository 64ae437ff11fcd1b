"""A hub's requests (DeviceToken / Device-Token): which hub a presented hub token is."""

from __future__ import annotations

import secrets
import string
from uuid import UUID

from domain.openshock.hub import Hub, HubCredential, hub_credential_id
from domain.openshock.values import HUB_TOKEN_LENGTH
from infra.identity.credentials import hash_token
from infra.store.aggregates import AggregateLoader

# A hub token is 256 characters; anything much longer is refused before hashing.
MAX_PRESENTED_LENGTH = 512
_ALPHABET = string.ascii_letters + string.digits


def mint_hub_token() -> tuple[str, str]:
    """A new hub token (256 characters, shown once) and the hash commands carry."""
    token = "".join(secrets.choice(_ALPHABET) for _ in range(HUB_TOKEN_LENGTH))
    return token, hash_token(token)


class HubTokens:
    def __init__(self, aggregates: AggregateLoader) -> None:
        self._aggregates = aggregates

    def hub_for(self, token: str) -> UUID | None:
        """The hub this token belongs to now, or None. Reads the store: call it off the loop.

        The credential only points at a hub; the hub says whether the token is still its
        own, so a regenerated or deleted hub's old tokens stop working at once.
        """
        if not token or len(token) > MAX_PRESENTED_LENGTH:
            return None
        token_hash = hash_token(token)
        credential = self._aggregates.get(HubCredential, hub_credential_id(token_hash))
        if credential is None:
            return None
        try:
            hub_id = UUID(credential.hub_id)
        except ValueError:
            return None
        hub = self._aggregates.get(Hub, hub_id)
        return hub_id if hub is not None and hub.accepts_token(token_hash) else None
