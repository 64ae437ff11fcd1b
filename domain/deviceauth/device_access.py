"""One device's access record: its public key and whether it has proven it holds the private key."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]


class DeviceAccess(Aggregate):
    """Keyed by the upper-case device identifier, so any node finds it without an index.

    Every event names its device and carries the state a notification needs (public
    key, known or not), so gateways and Kafka consumers need no view to describe it.
    """

    # The events below, declared so that projections can name them by class.
    Registered: ClassVar[type[Aggregate.Event]]
    PublicKeySet: ClassVar[type[Aggregate.Event]]
    PublicKeyCleared: ClassVar[type[Aggregate.Event]]
    ChallengePassed: ClassVar[type[Aggregate.Event]]
    ConnectionRefused: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(device_identifier: str, meta: Metadata) -> UUID:
        return device_access_id(device_identifier)

    @event("Registered")
    def __init__(self, device_identifier: str, meta: Metadata) -> None:
        self.device_identifier = device_identifier
        self.public_key: str | None = None
        self.key_type: str | None = None
        self.key_problem: str | None = None
        self.known = False

    @property
    def unknown(self) -> bool:
        return not self.known

    @property
    def key_usable(self) -> bool:
        return self.public_key is not None and self.key_problem is None

    @event("PublicKeySet")
    def set_public_key(
        self,
        device_identifier: str,
        public_key: str,
        key_type: str | None,
        key_problem: str | None,
        meta: Metadata,
    ) -> None:
        self.public_key = public_key
        self.key_type = key_type
        self.key_problem = key_problem
        # A new key has not been proven yet: the device is unknown until its next challenge.
        self.known = False

    @event("PublicKeyCleared")
    def clear_public_key(self, device_identifier: str, meta: Metadata) -> None:
        self.public_key = None
        self.key_type = None
        self.key_problem = None
        self.known = False

    @event("ChallengePassed")
    def pass_challenge(self, device_identifier: str, public_key: str, meta: Metadata) -> None:
        self.known = True

    @event("ConnectionRefused")
    def refuse_connection(
        self, device_identifier: str, reason: str, public_key: str | None, meta: Metadata
    ) -> None:
        """A failed attempt leaves the key in place; only its record is kept."""


# A command names its device once and asks for its id twice (the load, then create_id on
# a first key): the second costs a dict lookup instead of a SHA-1.
@lru_cache(maxsize=1024)
def device_access_id(device_identifier: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:deviceauth:{device_identifier.upper()}")
