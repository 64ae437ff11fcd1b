"""Decisions about principals."""

from __future__ import annotations

from uuid import UUID

from domain.commands import UnitOfWork
from domain.errors import DomainError, NotFound
from domain.principals.api_token import ApiToken, api_token_id
from domain.principals.commands import IssueApiToken, RecordApiTokenUse, RevokeApiToken
from domain.principals.permissions import parse_permissions


def issue_api_token(command: IssueApiToken, uow: UnitOfWork) -> UUID:
    name = command.name.strip()
    if not name or len(name) > 200:
        raise DomainError("a token needs a name of 1 to 200 characters")
    try:
        permissions = parse_permissions(command.permissions)
    except ValueError as exc:
        raise DomainError(str(exc)) from exc
    if uow.get(ApiToken, api_token_id(command.token_hash)) is not None:
        raise DomainError("a token with this hash already exists")
    token = ApiToken(
        name=name,
        token_hash=command.token_hash,
        permissions=list(permissions),
        expires_at=command.expires_at,
        meta=command.context.as_metadata(),
        owner=command.owner,
    )
    uow.add(token)
    return token.id


def revoke_api_token(command: RevokeApiToken, uow: UnitOfWork) -> None:
    token = uow.get(ApiToken, command.token_id)
    owner = command.owner
    if token is None or (owner is not None and token.owner != owner):
        raise NotFound(f"no token with id {command.token_id}")
    if not token.revoked:
        token.revoke(meta=command.context.as_metadata())


def record_api_token_use(command: RecordApiTokenUse, uow: UnitOfWork) -> None:
    token = uow.get(ApiToken, command.token_id)
    if token is not None and not token.revoked:
        token.record_use(at=command.at, meta=command.context.as_metadata())


HANDLERS = {
    IssueApiToken: issue_api_token,
    RevokeApiToken: revoke_api_token,
    RecordApiTokenUse: record_api_token_use,
}
