"""Hubline's API tokens with OpenShock's permissions and control limits, pure."""

from __future__ import annotations

import uuid

import pytest

from domain.context import CommandContext
from domain.errors import DomainError
from domain.openshock.callers import caller_of
from domain.openshock.errors import InvalidRequest, PermissionMissing
from domain.openshock.values import (
    LimitMode,
    Permission,
    ShockerControl,
    TokenGrant,
    ValueRange,
)
from domain.principals.api_token import ApiToken
from domain.principals.commands import (
    ChangeApiToken,
    IssueApiToken,
    RevokeApiToken,
    SetApiTokenPaused,
)
from domain.principals.handlers import HANDLERS, ApiTokenNotFound
from domain.principals.permissions import (
    OPENSHOCK_PERMISSIONS,
    Principal,
    may_give_to_api_token,
    parse_permissions,
)
from tests.unit.fakes import MemoryUnitOfWork

CLI = CommandContext(actor_id="cli", actor_kind="cli")
OWNER = str(uuid.uuid4())
LIMITED = ShockerControl(
    paused=False,
    intensity=ValueRange(10, 50, LimitMode.LERP),
    duration=ValueRange(300, 1000, LimitMode.CLAMP),
)


def issue(uow: MemoryUnitOfWork, **extra: object) -> uuid.UUID:
    token_id = uow.run(
        IssueApiToken(
            name="shockosc",
            token_hash=f"hash-{uuid.uuid4()}",
            permissions=("shockers.use",),
            owner=OWNER,
            context=CLI,
            **extra,  # type: ignore[arg-type]
        )
    )
    assert isinstance(token_id, uuid.UUID)
    return token_id


def test_the_nine_openshock_permissions_sit_beside_hublines_own() -> None:
    assert {p.value for p in Permission} == OPENSHOCK_PERMISSIONS
    assert len(OPENSHOCK_PERMISSIONS) == 9
    assert parse_permissions(["shockers.use", "tokens:read", "publicshares.pause"]) == (
        "publicshares.pause",
        "shockers.use",
        "tokens:read",
    )
    with pytest.raises(ValueError, match=r"not valid: shockers\.fly"):
        parse_permissions(["shockers.fly"])
    # No hierarchy and no wildcard among OpenShock's.
    holder = Principal(OWNER, "user", frozenset({"shockers.edit"}))
    assert holder.may("shockers.edit") and not holder.may("shockers.use")


def test_any_user_may_give_openshock_permissions_but_the_operator_token_may_not() -> None:
    user = Principal(OWNER, "user", frozenset({"tokens:create"}))
    operator = Principal("t", "api_token", frozenset({"tokens:create"}))
    assert may_give_to_api_token(user, "devices.auth")
    assert not may_give_to_api_token(operator, "devices.auth")


def test_a_token_keeps_its_control_limits_and_is_changed_and_paused_by_events() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    token_id = issue(uow, shocker_control=LIMITED)
    token = uow.get(ApiToken, token_id)
    assert token is not None and token.control == LIMITED
    uow.run(
        ChangeApiToken(
            token_id=token_id,
            name="renamed",
            permissions=("shockers.use", "shockers.pause"),
            owner=OWNER,
            context=CLI,
        )
    )
    # A v1 PATCH (no shockerControl) keeps the limits.
    assert token.name == "renamed" and token.control == LIMITED
    assert token.permissions == ["shockers.pause", "shockers.use"]
    assert uow.run(SetApiTokenPaused(token_id=token_id, paused=True, owner=OWNER, context=CLI))
    assert token.control.paused and token.control.intensity == LIMITED.intensity
    events = [type(e).__name__ for e in token.collect_events()]
    assert events == ["Issued", "Changed", "PauseChanged"]
    # Pausing a paused token records nothing; a v2 PATCH replaces the limits.
    uow.run(SetApiTokenPaused(token_id=token_id, paused=True, owner=OWNER, context=CLI))
    uow.run(
        ChangeApiToken(
            token_id=token_id,
            name="renamed",
            permissions=("shockers.pause", "shockers.use"),
            shocker_control=ShockerControl(),
            owner=OWNER,
            context=CLI,
        )
    )
    assert token.control == ShockerControl()
    assert [type(e).__name__ for e in token.collect_events()] == ["Changed"]


def test_a_token_without_limits_changes_no_control() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    token = uow.get(ApiToken, issue(uow))
    assert token is not None and token.shocker_control is None
    assert token.control == ShockerControl()


def test_bad_limits_names_and_other_users_tokens_are_refused() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    with pytest.raises(InvalidRequest, match="min must not be above max"):
        issue(uow, shocker_control=ShockerControl(intensity=ValueRange(60, 50)))
    with pytest.raises(InvalidRequest, match=r"duration\.max"):
        issue(uow, shocker_control=ShockerControl(duration=ValueRange(300, 65536)))
    token_id = issue(uow)
    for command in (
        SetApiTokenPaused(token_id=token_id, paused=True, owner=str(uuid.uuid4()), context=CLI),
        ChangeApiToken(token_id=uuid.uuid4(), name="x", permissions=(), context=CLI),
    ):
        with pytest.raises(ApiTokenNotFound) as refused:
            uow.run(command)
        assert refused.value.code == "ApiToken.NotFound"
    with pytest.raises(DomainError, match="name"):
        uow.run(ChangeApiToken(token_id=token_id, name=" ", permissions=(), context=CLI))
    uow.run(RevokeApiToken(token_id=token_id, context=CLI))
    with pytest.raises(ApiTokenNotFound):
        uow.run(SetApiTokenPaused(token_id=token_id, paused=True, context=CLI))


def test_a_principal_becomes_the_openshock_caller_its_credential_allows() -> None:
    user_id = uuid.uuid4()
    session = Principal(str(user_id), "user", frozenset(), "sid", "session")
    caller = caller_of(session)
    assert caller is not None and caller.user_id == user_id and caller.token is None
    caller.require(Permission.DEVICES_AUTH)  # a session may do everything

    token = Principal(
        str(user_id),
        "user",
        frozenset({"shockers.use", "tokens:read"}),
        "tid",
        "api_token",
        LIMITED,
    )
    caller = caller_of(token)
    assert caller is not None
    assert caller.token == TokenGrant("tid", frozenset({"shockers.use"}), LIMITED)
    with pytest.raises(PermissionMissing):
        caller.require(Permission.SHOCKERS_EDIT)

    access_token = Principal(str(user_id), "user", frozenset(), "jti", "access_token")
    operator = Principal("tid", "api_token", frozenset(), "tid", "api_token")
    assert caller_of(access_token) is None and caller_of(operator) is None
