"""OpenShock hubs ("devices"): who owns them, their token, their pair code, their shockers.

Counting limits are held by the aggregate that grows, so two concurrent requests cannot both
pass a count: a user's `HubOwner` lists their hubs (at most 4) and a `Hub` lists its shockers
(at most 11). Both requests append to the same aggregate at the same version; the store takes
one and the bus decides the other again against the new count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]


class HubOwner(Aggregate):
    """One per user who ever had a hub, keyed by the user id."""

    Opened: ClassVar[type[Aggregate.Event]]
    HubAdded: ClassVar[type[Aggregate.Event]]
    HubRemoved: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(user_id: str, **_: Any) -> UUID:
        return hub_owner_id(user_id)

    @event("Opened")
    def __init__(self, user_id: str, meta: Metadata) -> None:
        self.user_id = user_id
        self.hubs: list[str] = []

    @event("HubAdded")
    def add_hub(self, hub_id: str, meta: Metadata) -> None:
        self.hubs.append(hub_id)

    @event("HubRemoved")
    def remove_hub(self, hub_id: str, meta: Metadata) -> None:
        self.hubs.remove(hub_id)


def hub_owner_id(user_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:openshock-hub-owner:{user_id}")


class Hub(Aggregate):
    """A hub. Its token is kept twice: hashed, to find the hub by the token it presents, and
    sealed with the deployment's master key, so its owner can be shown it again. The domain
    never opens the sealed token; events carry only those two forms, never the token."""

    Created: ClassVar[type[Aggregate.Created]]
    Renamed: ClassVar[type[Aggregate.Event]]
    TokenRegenerated: ClassVar[type[Aggregate.Event]]
    PairCodeIssued: ClassVar[type[Aggregate.Event]]
    Paired: ClassVar[type[Aggregate.Event]]
    ShockerAttached: ClassVar[type[Aggregate.Event]]
    ShockerDetached: ClassVar[type[Aggregate.Event]]
    Deleted: ClassVar[type[Aggregate.Event]]

    @event("Created")
    def __init__(
        self, owner_id: str, name: str, token_hash: str, meta: Metadata, sealed_token: str = ""
    ) -> None:
        # sealed_token defaults to "" only for hubs recorded before tokens were sealed.
        self.owner_id = owner_id
        self.name = name
        self.token_hash = token_hash
        self.sealed_token = sealed_token
        self.shockers: list[str] = []
        self.pair_code: str | None = None
        self.pair_code_expires_at: datetime | None = None
        self.deleted = False

    @event("Renamed")
    def rename(self, name: str, meta: Metadata) -> None:
        self.name = name

    @event("TokenRegenerated")
    def regenerate_token(self, token_hash: str, meta: Metadata, sealed_token: str = "") -> None:
        self.token_hash = token_hash
        self.sealed_token = sealed_token

    @event("PairCodeIssued")
    def issue_pair_code(self, code: str, expires_at: datetime, meta: Metadata) -> None:
        # One live code per hub: a new code makes the previous one worthless.
        self.pair_code = code
        self.pair_code_expires_at = expires_at

    @event("Paired")
    def pair(self, code: str, token_hash: str, meta: Metadata, sealed_token: str = "") -> None:
        # The hub that redeems the code is handed a fresh token, so a token read before
        # pairing stops working once a hub holds one.
        self.pair_code = None
        self.pair_code_expires_at = None
        self.token_hash = token_hash
        self.sealed_token = sealed_token

    @event("ShockerAttached")
    def attach_shocker(self, shocker_id: str, meta: Metadata) -> None:
        self.shockers.append(shocker_id)

    @event("ShockerDetached")
    def detach_shocker(self, shocker_id: str, meta: Metadata) -> None:
        self.shockers.remove(shocker_id)

    @event("Deleted")
    def delete(self, meta: Metadata) -> None:
        self.deleted = True
        self.pair_code = None

    def is_owned_by(self, user_id: str) -> bool:
        return not self.deleted and self.owner_id == user_id

    def accepts_token(self, token_hash: str) -> bool:
        return not self.deleted and self.token_hash == token_hash

    def pair_code_is_live(self, code: str, now: datetime) -> bool:
        return (
            not self.deleted
            and self.pair_code == code
            and self.pair_code_expires_at is not None
            and now < self.pair_code_expires_at
        )


class HubCredential(Aggregate):
    """Keyed by a hub token's hash, so a hub's request finds its hub without an index.

    It only points at the hub: whether the token is still the hub's is the hub's to say
    (`Hub.accepts_token`), so a regenerated or deleted hub's old tokens stop working at once.
    """

    Issued: ClassVar[type[Aggregate.Created]]

    @staticmethod
    def create_id(token_hash: str, **_: Any) -> UUID:
        return hub_credential_id(token_hash)

    @event("Issued")
    def __init__(self, token_hash: str, hub_id: str, meta: Metadata) -> None:
        self.token_hash = token_hash
        self.hub_id = hub_id


def hub_credential_id(token_hash: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:openshock-hub-token:{token_hash}")


class PairCode(Aggregate):
    """A 6-digit code's slot, keyed by the code: the anonymous pair request finds it by id.

    The slot is reused when the same digits are drawn again after the code died (used,
    expired, or replaced by a newer code of its hub).
    """

    Issued: ClassVar[type[Aggregate.Created]]
    Reissued: ClassVar[type[Aggregate.Event]]
    Used: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return pair_code_id(code)

    @event("Issued")
    def __init__(self, code: str, hub_id: str, expires_at: datetime, meta: Metadata) -> None:
        self.code = code
        self.hub_id = hub_id
        self.expires_at = expires_at
        self.used = False

    @event("Reissued")
    def reissue(self, hub_id: str, expires_at: datetime, meta: Metadata) -> None:
        self.hub_id = hub_id
        self.expires_at = expires_at
        self.used = False

    @event("Used")
    def use(self, meta: Metadata) -> None:
        self.used = True


def pair_code_id(code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:openshock-pair-code:{code}")
