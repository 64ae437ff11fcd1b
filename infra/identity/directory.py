"""Finds aggregates by their natural keys (e-mail, client id, codes, serial numbers)."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.identity.authorization_code import AuthorizationCode, authorization_code_id
from domain.identity.device_authorization import DeviceAuthorization, device_authorization_id
from domain.identity.oauth_client import OAuthClient, oauth_client_id
from domain.identity.token_grant import TokenGrant
from domain.identity.user import User, user_id
from domain.thermostats.thermostat import Thermostat, thermostat_id
from infra.identity.credentials import hash_token
from infra.store.event_store import EventStore

CLIENT_SECRET_BYTES = 32


def mint_client_secret() -> tuple[str, str]:
    """A new client secret and its hash; the secret is shown once."""
    secret = secrets.token_urlsafe(CLIENT_SECRET_BYTES)
    return secret, hash_token(secret)


class Directory:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    def _get(self, aggregate_id: UUID) -> object | None:
        try:
            found: object = self._store.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found

    def client(self, client_id: str) -> OAuthClient | None:
        if not client_id or len(client_id) > 100:
            return None
        found = self._get(oauth_client_id(client_id))
        return found if isinstance(found, OAuthClient) else None

    def user_by_email(self, email: str) -> User | None:
        if not email or len(email) > 254:
            return None
        found = self._get(user_id(email))
        return found if isinstance(found, User) else None

    def user_by_subject(self, subject: str) -> User | None:
        try:
            found = self._get(UUID(subject))
        except ValueError:
            return None
        return found if isinstance(found, User) else None

    def authorization_code(self, code_hash: str) -> AuthorizationCode | None:
        found = self._get(authorization_code_id(code_hash))
        return found if isinstance(found, AuthorizationCode) else None

    def device_authorization(self, user_code: str) -> DeviceAuthorization | None:
        if not user_code or len(user_code) > 20:
            return None
        found = self._get(device_authorization_id(user_code))
        return found if isinstance(found, DeviceAuthorization) else None

    def thermostat(self, serial_number: str) -> Thermostat | None:
        if not serial_number or len(serial_number) > 32:
            return None
        found = self._get(thermostat_id(serial_number))
        return found if isinstance(found, Thermostat) else None

    def grant(self, grant_id: str) -> TokenGrant | None:
        try:
            found = self._get(UUID(grant_id))
        except ValueError:
            return None
        return found if isinstance(found, TokenGrant) else None


def client_secret_matches(client: OAuthClient, presented: str) -> bool:
    presented_hash = hash_token(presented)
    matched = False
    for valid in client.secret_hashes_valid_at(datetime.now(UTC)):
        # Compare against every valid secret, so timing does not tell which one matched.
        matched |= hmac.compare_digest(valid, presented_hash)
    return matched
