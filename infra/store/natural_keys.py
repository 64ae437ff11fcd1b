"""Finds aggregates by their natural keys (e-mail, client id, codes, serial numbers)."""

from __future__ import annotations

from uuid import UUID

from domain.identity.authorization_code import AuthorizationCode, authorization_code_id
from domain.identity.device_authorization import DeviceAuthorization, device_authorization_id
from domain.identity.oauth_client import OAuthClient, oauth_client_id
from domain.identity.token_grant import TokenGrant, login_session_id
from domain.identity.user import User, user_id
from domain.identity.username import MAX_USERNAME_LENGTH, Username, username_id
from domain.thermostats.thermostat import Thermostat, thermostat_id
from infra.store.aggregates import AggregateLoader


class NaturalKeys:
    """Bounds each key's length first, so that a hostile key costs no store read."""

    def __init__(self, aggregates: AggregateLoader) -> None:
        self._aggregates = aggregates

    def client(self, client_id: str) -> OAuthClient | None:
        if not client_id or len(client_id) > 100:
            return None
        return self._aggregates.get(OAuthClient, oauth_client_id(client_id))

    def user_by_email(self, email: str) -> User | None:
        if not email or len(email) > 254:
            return None
        return self._aggregates.get(User, user_id(email))

    def user_by_username(self, username: str) -> User | None:
        """The user holding this name, whatever its case."""
        # Twice the limit: a name is measured in UTF-16 units, a str in code points.
        if not username or len(username) > 2 * MAX_USERNAME_LENGTH:
            return None
        claim = self._aggregates.get(Username, username_id(username))
        if claim is None or claim.holder is None:
            return None
        return self.user_by_subject(claim.holder)

    def user_by_login(self, username_or_email: str) -> User | None:
        """OpenShock's login name: an e-mail if it has an @ (which no username may have)."""
        if "@" in username_or_email:
            return self.user_by_email(username_or_email)
        return self.user_by_username(username_or_email)

    def login_session(self, session_hash: str) -> TokenGrant | None:
        found = self._aggregates.get(TokenGrant, login_session_id(session_hash))
        return found if found is not None and found.is_session else None

    def user_by_subject(self, subject: str) -> User | None:
        try:
            aggregate_id = UUID(subject)
        except ValueError:
            return None
        return self._aggregates.get(User, aggregate_id)

    def authorization_code(self, code_hash: str) -> AuthorizationCode | None:
        return self._aggregates.get(AuthorizationCode, authorization_code_id(code_hash))

    def device_authorization(self, user_code: str) -> DeviceAuthorization | None:
        if not user_code or len(user_code) > 20:
            return None
        return self._aggregates.get(DeviceAuthorization, device_authorization_id(user_code))

    def thermostat(self, serial_number: str) -> Thermostat | None:
        if not serial_number or len(serial_number) > 32:
            return None
        return self._aggregates.get(Thermostat, thermostat_id(serial_number))

    def grant(self, grant_id: str) -> TokenGrant | None:
        try:
            aggregate_id = UUID(grant_id)
        except ValueError:
            return None
        return self._aggregates.get(TokenGrant, aggregate_id)
