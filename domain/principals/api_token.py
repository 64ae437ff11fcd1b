"""API tokens: a named credential with permissions, stored only as a hash.

Hubline's `resource:action` permissions and OpenShock's dotted ones live in the same set
(domain/principals/permissions.py). OpenShock's v2 tokens also carry control limits
(`shockerControl`: paused, intensity and duration ranges), kept as plain JSON
(domain/principals/shocker_control.py); a token without them changes no control.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.openshock.values import ShockerControl
from domain.principals.shocker_control import control_as_dict, control_from_dict

Metadata = dict[str, Any]


class ApiToken(Aggregate):
    """Keyed by the token's hash so a request finds its token without any index."""

    Issued: ClassVar[type[Aggregate.Event]]
    Changed: ClassVar[type[Aggregate.Event]]
    PauseChanged: ClassVar[type[Aggregate.Event]]
    Revoked: ClassVar[type[Aggregate.Event]]
    Used: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(token_hash: str, **_: Any) -> UUID:
        return api_token_id(token_hash)

    @event("Issued")
    def __init__(
        self,
        name: str,
        token_hash: str,
        permissions: list[str],
        expires_at: datetime | None,
        meta: Metadata,
        owner: str | None = None,
        shocker_control: dict[str, Any] | None = None,
    ) -> None:
        # The user (subject) the token acts for; None for tokens issued to the operator.
        self.owner = owner
        self.last_used_at: datetime | None = None
        self.name = name
        self.token_hash = token_hash
        self.permissions = list(permissions)
        self.expires_at = expires_at
        self.revoked = False
        self.shocker_control = shocker_control

    @property
    def control(self) -> ShockerControl:
        return control_from_dict(self.shocker_control)

    @event("Changed")
    def change(
        self,
        name: str,
        permissions: list[str],
        shocker_control: dict[str, Any] | None,
        meta: Metadata,
    ) -> None:
        self.name = name
        self.permissions = list(permissions)
        self.shocker_control = shocker_control

    def set_paused(self, paused: bool, meta: Metadata) -> None:
        current = self.control
        if current.paused != paused:
            changed = ShockerControl(paused, current.intensity, current.duration)
            self._pause_changed(paused=paused, shocker_control=control_as_dict(changed), meta=meta)

    @event("PauseChanged")
    def _pause_changed(self, paused: bool, shocker_control: dict[str, Any], meta: Metadata) -> None:
        self.shocker_control = shocker_control

    @event("Revoked")
    def revoke(self, meta: Metadata) -> None:
        self.revoked = True

    @event("Used")
    def record_use(self, at: datetime, meta: Metadata) -> None:
        self.last_used_at = at

    def is_valid_at(self, now: datetime) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


def api_token_id(token_hash: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:api-token:{token_hash}")
