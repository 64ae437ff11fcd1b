"""People who log in: e-mail, display name, password hash, roles, and a stable subject id."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]

# Failed logins tolerated per window before the account is locked for a while.
FAILURES_BEFORE_LOCKOUT = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)

# The account settings SENZ's GET /Account reports, and what they may be.
TEMPERATURE_SCALES = ("Celsius", "Fahrenheit")
DEFAULT_TEMPERATURE_SCALE = "Celsius"
DEFAULT_LANGUAGE = "en"


class User(Aggregate):
    """Keyed by the lower-cased e-mail; the subject (`sub`) is the aggregate id, for good."""

    # The events below, declared so that projections can name them by class.
    Registered: ClassVar[type[Aggregate.Event]]
    PasswordChanged: ClassVar[type[Aggregate.Event]]
    SettingsChanged: ClassVar[type[Aggregate.Event]]
    ConsentGranted: ClassVar[type[Aggregate.Event]]
    LoginSucceeded: ClassVar[type[Aggregate.Event]]
    LoginFailed: ClassVar[type[Aggregate.Event]]
    LockedOut: ClassVar[type[Aggregate.Event]]
    UsernameChanged: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(email: str, **_: Any) -> UUID:
        return user_id(email)

    @event("Registered")
    def __init__(
        self,
        email: str,
        name: str,
        password_hash: str,
        roles: list[str],
        meta: Metadata,
        username: str | None = None,
    ) -> None:
        self.email = email
        # The unique login name OpenShock accounts have (domain/identity/username.py); users
        # registered without one (SENZ, operators) have none until they choose one.
        self.username = username
        self.username_changed_at: datetime | None = None
        self.name = name
        self.password_hash = password_hash
        self.roles = list(roles)
        self.recent_failures: list[datetime] = []
        self.locked_until: datetime | None = None
        self.consents: dict[str, list[str]] = {}
        self.temperature_scale = DEFAULT_TEMPERATURE_SCALE
        self.language = DEFAULT_LANGUAGE

    @property
    def subject(self) -> str:
        return str(self.id)

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    @event("UsernameChanged")
    def change_username(
        self, username: str, previous: str | None, at: datetime, meta: Metadata
    ) -> None:
        self.username = username
        self.username_changed_at = at

    @event("PasswordChanged")
    def change_password(self, password_hash: str, meta: Metadata) -> None:
        self.password_hash = password_hash

    @event("SettingsChanged")
    def change_settings(
        self, name: str, temperature_scale: str, language: str, meta: Metadata
    ) -> None:
        self.name = name
        self.temperature_scale = temperature_scale
        self.language = language

    def has_consented(self, client_id: str, scopes: list[str]) -> bool:
        return set(scopes) <= set(self.consents.get(client_id, []))

    @event("ConsentGranted")
    def grant_consent(self, client_id: str, scopes: list[str], meta: Metadata) -> None:
        self.consents[client_id] = sorted(set(self.consents.get(client_id, [])) | set(scopes))

    @event("LoginSucceeded")
    def record_login(self, client_id: str | None, meta: Metadata) -> None:
        self.recent_failures = []

    def record_failed_login(
        self, reason: str, at: datetime, client_id: str | None, meta: Metadata
    ) -> None:
        recent = [t for t in self.recent_failures if at - t < FAILURE_WINDOW]
        self._login_failed(reason=reason, at=at, client_id=client_id, meta=meta)
        if len(recent) + 1 >= FAILURES_BEFORE_LOCKOUT and not self.is_locked(at):
            self._lock_out(until=at + LOCKOUT, meta=meta)

    @event("LoginFailed")
    def _login_failed(
        self, reason: str, at: datetime, client_id: str | None, meta: Metadata
    ) -> None:
        self.recent_failures = [t for t in self.recent_failures if at - t < FAILURE_WINDOW] + [at]

    @event("LockedOut")
    def _lock_out(self, until: datetime, meta: Metadata) -> None:
        self.locked_until = until


def user_id(email: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:user:{email.strip().lower()}")
