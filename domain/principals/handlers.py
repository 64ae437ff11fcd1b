"""Decisions about principals."""

from __future__ import annotations

from uuid import UUID

from domain.commands import UnitOfWork
from domain.errors import DomainError, NotFound
from domain.openshock.values import ShockerControl, checked_shocker_control
from domain.principals.api_token import ApiToken, api_token_id
from domain.principals.commands import (
    ChangeApiToken,
    IssueApiToken,
    RecordApiTokenUse,
    RevokeApiToken,
    SetApiTokenPaused,
)
from domain.principals.permissions import parse_permissions
from domain.principals.shocker_control import control_as_dict

MAX_NAME_LENGTH = 200


class ApiTokenNotFound(NotFound):
    code = "ApiToken.NotFound"


def issue_api_token(command: IssueApiToken, uow: UnitOfWork) -> UUID:
    name = _checked_name(command.name)
    permissions = _checked_permissions(command.permissions)
    control = _checked_control(command.shocker_control)
    if uow.get(ApiToken, api_token_id(command.token_hash)) is not None:
        raise DomainError("a token with this hash already exists")
    token = ApiToken(
        name=name,
        token_hash=command.token_hash,
        permissions=list(permissions),
        expires_at=command.expires_at,
        meta=command.context.as_metadata(),
        owner=command.owner,
        shocker_control=control,
    )
    uow.add(token)
    return token.id


def change_api_token(command: ChangeApiToken, uow: UnitOfWork) -> None:
    token = _owned_token(uow, command.token_id, command.owner)
    name = _checked_name(command.name)
    permissions = list(_checked_permissions(command.permissions))
    control = (
        token.shocker_control
        if command.shocker_control is None
        else _checked_control(command.shocker_control)
    )
    if (name, permissions, control) != (token.name, token.permissions, token.shocker_control):
        token.change(
            name=name,
            permissions=permissions,
            shocker_control=control,
            meta=command.context.as_metadata(),
        )


def set_api_token_paused(command: SetApiTokenPaused, uow: UnitOfWork) -> bool:
    token = _owned_token(uow, command.token_id, command.owner)
    token.set_paused(paused=command.paused, meta=command.context.as_metadata())
    return token.control.paused


def revoke_api_token(command: RevokeApiToken, uow: UnitOfWork) -> None:
    token = uow.get(ApiToken, command.token_id)
    owner = command.owner
    if token is None or (owner is not None and token.owner != owner):
        raise ApiTokenNotFound(f"no token with id {command.token_id}")
    if not token.revoked:
        token.revoke(meta=command.context.as_metadata())


def record_api_token_use(command: RecordApiTokenUse, uow: UnitOfWork) -> None:
    token = uow.get(ApiToken, command.token_id)
    if token is not None and not token.revoked:
        token.record_use(at=command.at, meta=command.context.as_metadata())


def _owned_token(uow: UnitOfWork, token_id: UUID, owner: str | None) -> ApiToken:
    token = uow.get(ApiToken, token_id)
    if token is None or token.revoked or (owner is not None and token.owner != owner):
        raise ApiTokenNotFound(f"no token with id {token_id}")
    return token


def _checked_name(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise DomainError(f"a token needs a name of 1 to {MAX_NAME_LENGTH} characters")
    return name


def _checked_permissions(raw: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return parse_permissions(raw)
    except ValueError as exc:
        raise DomainError(str(exc)) from exc


def _checked_control(control: ShockerControl | None) -> dict[str, object] | None:
    return None if control is None else control_as_dict(checked_shocker_control(control))


HANDLERS = {
    IssueApiToken: issue_api_token,
    ChangeApiToken: change_api_token,
    SetApiTokenPaused: set_api_token_paused,
    RevokeApiToken: revoke_api_token,
    RecordApiTokenUse: record_api_token_use,
}
