"""Hub tokens: minted and sealed for the owner to see again (`SealedHubTokens`), and which
hub a presented token is (`HubTokens`, for DeviceToken / Device-Token)."""

from __future__ import annotations

import binascii
import secrets
import string
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidTag

from domain.openshock.hub import Hub, HubCredential, hub_credential_id
from domain.openshock.values import HUB_TOKEN_LENGTH
from infra.identity.credentials import hash_token
from infra.identity.secret_box import SecretBox
from infra.store.aggregates import AggregateLoader

# A hub token is 256 characters; anything much longer is refused before hashing.
MAX_PRESENTED_LENGTH = 512
_ALPHABET = string.ascii_letters + string.digits
# The purpose sealed tokens are bound to: no other sealed secret can pass for a hub token.
_PURPOSE = "openshock-hub-token"


@dataclass(frozen=True)
class MintedHubToken:
    token: str  # answered to whoever asked for it, never recorded
    token_hash: str  # finds the hub by the token it presents
    sealed: str  # what lets its owner be shown it again


class SealedHubTokens:
    def __init__(self, box: SecretBox, aggregates: AggregateLoader) -> None:
        self._box = box
        self._aggregates = aggregates

    def mint(self) -> MintedHubToken:
        token = "".join(secrets.choice(_ALPHABET) for _ in range(HUB_TOKEN_LENGTH))
        sealed = self._box.seal(token.encode(), _PURPOSE)
        return MintedHubToken(token, hash_token(token), sealed)

    def shown_to_owner(self, hub_id: UUID, user_id: UUID) -> str | None:
        """The hub's current token if `user_id` owns the hub, else None. Reads the store:
        call it off the loop."""
        hub = self._aggregates.get(Hub, hub_id)
        if hub is None or not hub.is_owned_by(str(user_id)) or not hub.sealed_token:
            return None
        try:
            return self._box.open(hub.sealed_token, _PURPOSE).decode()
        except (InvalidTag, ValueError, binascii.Error):
            # Sealed under another master key: the token is lost, as a hash would be.
            return None


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
        return self.hub_for_hash(hash_token(token))

    def hub_for_hash(self, token_hash: str) -> UUID | None:
        """`hub_for` by the token's hash (what a live session keeps of it)."""
        credential = self._aggregates.get(HubCredential, hub_credential_id(token_hash))
        if credential is None:
            return None
        try:
            hub_id = UUID(credential.hub_id)
        except ValueError:
            return None
        hub = self._aggregates.get(Hub, hub_id)
        return hub_id if hub is not None and hub.accepts_token(token_hash) else None
