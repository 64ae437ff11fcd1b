"""The provider's signing keys: every key ever added, newest first in use.

The private half is kept only encrypted (the key that decrypts it is configuration,
never an event); the public half is published in the JWKS while tokens it signed may
still be alive.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]
KEY_RING_ID = uuid5(NAMESPACE_URL, "hubline:signing-keys")


class SigningKeyRing(Aggregate):
    @staticmethod
    def create_id(meta: Metadata) -> UUID:
        return KEY_RING_ID

    @event("Created")
    def __init__(self, meta: Metadata) -> None:
        self.keys: list[dict[str, Any]] = []

    @event("KeyAdded")
    def add_key(
        self,
        kid: str,
        alg: str,
        public_jwk: dict[str, Any],
        private_key_encrypted: str,
        added_at: datetime,
        meta: Metadata,
    ) -> None:
        self.keys.insert(
            0,
            {
                "kid": kid,
                "alg": alg,
                "public_jwk": public_jwk,
                "private_key_encrypted": private_key_encrypted,
                "added_at": added_at,
                "retired_at": None,
            },
        )

    @event("KeyRetired")
    def retire_key(self, kid: str, retired_at: datetime, meta: Metadata) -> None:
        for key in self.keys:
            if key["kid"] == kid:
                key["retired_at"] = retired_at

    def current(self, alg: str) -> dict[str, Any] | None:
        return next((k for k in self.keys if k["alg"] == alg and k["retired_at"] is None), None)
