"""API tokens and permissions, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.context import CommandContext
from domain.errors import DomainError, NotFound
from domain.principals.api_token import ApiToken, api_token_id
from domain.principals.commands import IssueApiToken, RevokeApiToken
from domain.principals.handlers import HANDLERS, issue_api_token, revoke_api_token
from domain.principals.permissions import Principal, parse_permissions
from tests.unit.fakes import MemoryUnitOfWork

CLI = CommandContext(actor_id="cli", actor_kind="cli")


def test_permissions_are_validated_and_normalised() -> None:
    assert parse_permissions("deviceAuth:update, deviceAuth:read,deviceAuth:read") == (
        "deviceAuth:read",
        "deviceAuth:update",
    )
    with pytest.raises(ValueError, match="not valid"):
        parse_permissions("deviceAuth")
    with pytest.raises(ValueError, match="unknown resources"):
        parse_permissions("nuclear:launch".replace("launch", "read"))


def test_principal_permissions_with_wildcard() -> None:
    p = Principal("p", "api_token", frozenset({"deviceAuth:*"}))
    assert p.may("deviceAuth:delete") and not p.may("audit:read")


def test_issue_and_revoke() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    token_id = issue_api_token(
        IssueApiToken(name="ci", token_hash="h", permissions=("audit:read",), context=CLI), uow
    )
    assert token_id == api_token_id("h")
    revoke_api_token(RevokeApiToken(token_id=token_id, context=CLI), uow)
    token = uow.get(ApiToken, token_id)
    assert token is not None and not token.is_valid_at(datetime.now(UTC))
    with pytest.raises(NotFound):
        revoke_api_token(RevokeApiToken(token_id=api_token_id("other"), context=CLI), uow)


def test_expired_tokens_are_not_valid() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    past = datetime.now(UTC) - timedelta(seconds=1)
    token_id = issue_api_token(
        IssueApiToken(name="x", token_hash="h", permissions=(), expires_at=past, context=CLI), uow
    )
    token = uow.get(ApiToken, token_id)
    assert token is not None and not token.is_valid_at(datetime.now(UTC))


def test_tokens_need_a_name_and_valid_permissions() -> None:
    with pytest.raises(DomainError):
        issue_api_token(
            IssueApiToken(name=" ", token_hash="h", permissions=(), context=CLI),
            MemoryUnitOfWork(HANDLERS),
        )
    with pytest.raises(DomainError):
        issue_api_token(
            IssueApiToken(name="n", token_hash="h", permissions=("bad",), context=CLI),
            MemoryUnitOfWork(HANDLERS),
        )


def test_the_restapi_scope_grants_the_thermostat_permissions() -> None:
    from domain.principals.permissions import permissions_for_access_token

    with_scope = permissions_for_access_token(["user"], ["openid", "restapi"])
    assert {"account:read", "thermostats:read", "thermostats:update"} <= with_scope
    without = permissions_for_access_token(["user"], ["openid"])
    assert "thermostats:read" not in without and "tokens:create" in without
    assert "deviceAuth:delete" in permissions_for_access_token(["admin"], [])
