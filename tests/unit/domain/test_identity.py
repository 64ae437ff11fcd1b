"""Identity decisions, pure: users, clients, refresh-token families."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.context import CommandContext
from domain.errors import DomainError, NotFound
from domain.identity.commands import (
    RecordLogin,
    RefreshTokenGrant,
    RegisterClient,
    RegisterUser,
    RotateClientSecret,
    StartTokenGrant,
    UpdateAccount,
)
from domain.identity.handlers import HANDLERS, RefreshOutcome
from domain.identity.oauth_client import OAuthClient, oauth_client_id
from domain.identity.token_grant import TokenGrant
from domain.identity.user import User, user_id
from tests.unit.fakes import MemoryUnitOfWork

CLI = CommandContext(actor_id="cli", actor_kind="cli")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def register_user(uow: MemoryUnitOfWork, email: str = "Ada@Example.com") -> str:
    return str(uow.run(RegisterUser(email=email, name="Ada", password_hash="h", context=CLI)))


def test_users_are_keyed_by_lower_case_email_with_a_stable_subject() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    subject = register_user(uow)
    user = uow.get(User, user_id("ada@example.com"))
    assert user is not None and user.subject == subject and user.email == "ada@example.com"
    with pytest.raises(DomainError, match="already exists"):
        register_user(uow, "ADA@example.com")
    with pytest.raises(DomainError, match="e-mail"):
        register_user(uow, "not-an-email")


def test_account_settings_change_only_what_is_given_and_only_when_different() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    subject = register_user(uow)
    user = uow.get(User, user_id("ada@example.com"))
    assert user is not None
    assert (user.temperature_scale, user.language) == ("Celsius", "en")
    user.collect_events()  # as if saved
    uow.run(UpdateAccount(subject=subject, temperature_scale="fahrenheit", context=CLI))
    assert (user.name, user.temperature_scale, user.language) == ("Ada", "Fahrenheit", "en")
    events = len(user.collect_events())
    uow.run(UpdateAccount(subject=subject, temperature_scale="Fahrenheit", context=CLI))
    assert events == 1 and not user.collect_events()  # the same value again: no event
    for bad in (
        UpdateAccount(subject=subject, temperature_scale="Kelvin", context=CLI),
        UpdateAccount(subject=subject, language="english please", context=CLI),
        UpdateAccount(subject=subject, name="  ", context=CLI),
    ):
        with pytest.raises(DomainError):
            uow.run(bad)
    with pytest.raises(NotFound):
        uow.run(UpdateAccount(subject=str(uuid.uuid4()), language="nb", context=CLI))


def test_five_failures_lock_the_account_and_success_clears_the_count() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    register_user(uow)
    for minute in range(4):
        uow.run(
            RecordLogin(
                email="ada@example.com",
                succeeded=False,
                at=NOW + timedelta(minutes=minute),
                context=CLI,
            ),
        )
    user = uow.get(User, user_id("ada@example.com"))
    assert user is not None and not user.is_locked(NOW + timedelta(minutes=4))
    uow.run(RecordLogin(email="ada@example.com", succeeded=True, at=NOW, context=CLI))
    for minute in range(5):
        uow.run(
            RecordLogin(
                email="ada@example.com",
                succeeded=False,
                at=NOW + timedelta(minutes=minute),
                context=CLI,
            ),
        )
    assert user.is_locked(NOW + timedelta(minutes=5))
    assert not user.is_locked(NOW + timedelta(minutes=30))


def client(public: bool = False, **changes: object) -> RegisterClient:
    values: dict[str, object] = {
        "client_id": "senz-app",
        "name": "SENZ",
        "public": public,
        "redirect_uris": ("https://app.example.com/cb",),
        "grant_types": ("authorization_code", "refresh_token"),
        "scopes": ("openid", "restapi"),
        "secret_hash": None if public else "secret-hash",
        "context": CLI,
    }
    values.update(changes)
    return RegisterClient(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"client_id": "x"},
        {"grant_types": ("magic",)},
        {"secret_hash": None},
        {"redirect_uris": ("/relative",)},
        {"redirect_uris": ("https://app.example.com/cb#fragment",)},
    ],
)
def test_client_registration_rules(bad: dict[str, object]) -> None:
    with pytest.raises(DomainError):
        MemoryUnitOfWork(HANDLERS).run(client(**bad))


def test_public_clients_have_no_secret_and_no_client_credentials() -> None:
    MemoryUnitOfWork(HANDLERS).run(client(public=True))
    with pytest.raises(DomainError):
        MemoryUnitOfWork(HANDLERS).run(client(public=True, grant_types=("client_credentials",)))


def test_a_rotated_secret_stays_valid_for_its_grace() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    uow.run(client())
    uow.run(
        RotateClientSecret(
            client_id="senz-app",
            secret_hash="new",
            previous_valid_until=NOW + timedelta(hours=1),
            context=CLI,
        ),
    )
    found = uow.get(OAuthClient, oauth_client_id("senz-app"))
    assert found is not None
    assert found.secret_hashes_valid_at(NOW) == ["new", "secret-hash"]
    assert found.secret_hashes_valid_at(NOW + timedelta(hours=2)) == ["new"]


def start_grant(uow: MemoryUnitOfWork) -> uuid.UUID:
    grant_id = uuid.uuid4()
    uow.run(
        StartTokenGrant(
            grant_id=grant_id,
            client_id="c",
            subject="s",
            scope="openid offline_access",
            grant_type="password",
            access_token_id="j1",
            refresh_token_hash="r1",
            refresh_expires_at=NOW + timedelta(days=15),
            context=CLI,
        ),
    )
    return grant_id


def refresh(
    uow: MemoryUnitOfWork, grant_id: uuid.UUID, presented: str, new: str, at: datetime = NOW
) -> object:
    return uow.run(
        RefreshTokenGrant(
            grant_id=grant_id,
            presented_hash=presented,
            access_token_id="j",
            refresh_token_hash=new,
            refresh_expires_at=at + timedelta(days=15),
            at=at,
            context=CLI,
        ),
    )


def test_refresh_rotates_then_reuse_revokes_the_family() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    grant_id = start_grant(uow)
    assert refresh(uow, grant_id, "r1", "r2") is RefreshOutcome.ROTATED
    assert refresh(uow, grant_id, "r2", "r3") is RefreshOutcome.ROTATED
    assert refresh(uow, grant_id, "r1", "r4") is RefreshOutcome.REUSED
    grant = uow.get(TokenGrant, grant_id)
    assert grant is not None and grant.revoked
    assert refresh(uow, grant_id, "r3", "r5") is RefreshOutcome.INVALID


def test_unknown_and_expired_refresh_tokens_are_invalid() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    grant_id = start_grant(uow)
    assert refresh(uow, grant_id, "other", "x") is RefreshOutcome.INVALID
    assert refresh(uow, grant_id, "r1", "x", at=NOW + timedelta(days=16)) is RefreshOutcome.INVALID
    assert refresh(uow, uuid.uuid4(), "r1", "x") is RefreshOutcome.INVALID
