"""Decisions of the identity provider."""

from __future__ import annotations

import hmac
import re
from enum import StrEnum
from uuid import UUID

from domain.commands import UnitOfWork
from domain.errors import DomainError, NotFound
from domain.identity.authorization_code import AuthorizationCode, authorization_code_id
from domain.identity.commands import (
    AddSigningKey,
    ChangeUsername,
    DecideDeviceAuthorization,
    GrantConsent,
    IssueAuthorizationCode,
    RecordLogin,
    RedeemAuthorizationCode,
    RedeemDeviceAuthorization,
    RefreshTokenGrant,
    RegisterClient,
    RegisterUser,
    RequestDeviceAuthorization,
    RevokeTokenGrant,
    RotateClientSecret,
    StartTokenGrant,
    UpdateAccount,
)
from domain.identity.device_authorization import (
    DeviceAuthorization,
    device_authorization_id,
    normalise_user_code,
)
from domain.identity.login_sessions import HANDLERS as SESSION_HANDLERS
from domain.identity.oauth_client import GRANT_TYPES, OAuthClient, oauth_client_id
from domain.identity.signing_keys import KEY_RING_ID, SigningKeyRing
from domain.identity.token_grant import TokenGrant
from domain.identity.user import TEMPERATURE_SCALES, User, user_id
from domain.identity.username import (
    Username,
    UsernameOrEmailExists,
    UsernameRecentlyChanged,
    UsernameTaken,
    checked_username,
    claim_username,
    may_change_username,
    username_id,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A BCP 47 language tag as apps send them: "en", "nb", "en-GB", "zh-Hant-TW".
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
ROLES = frozenset({"admin", "user"})


class RedeemOutcome(StrEnum):
    REDEEMED = "redeemed"
    # The code was used before: the grant it started is revoked (RFC 6749 §4.1.2).
    REUSED = "reused"
    INVALID = "invalid"


class RefreshOutcome(StrEnum):
    ROTATED = "rotated"
    # A replaced token came back: someone holds a copy, so the family was revoked.
    REUSED = "reused"
    INVALID = "invalid"


def register_user(command: RegisterUser, uow: UnitOfWork) -> str:
    email = command.email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise DomainError("a user needs a valid e-mail address")
    if not command.name.strip() or len(command.name) > 200:
        raise DomainError("a user needs a display name of 1 to 200 characters")
    unknown = set(command.roles) - ROLES
    if unknown:
        raise DomainError(f"unknown roles: {', '.join(sorted(unknown))}")
    username = None if command.username is None else checked_username(command.username)
    if uow.get(User, user_id(email)) is not None:
        message = f"a user with e-mail {email} already exists"
        raise DomainError(message) if username is None else UsernameOrEmailExists(message)
    meta = command.context.as_metadata()
    user = User(
        email=email,
        name=command.name.strip(),
        password_hash=command.password_hash,
        roles=sorted(set(command.roles) | {"user"}),
        meta=meta,
        username=username,
    )
    # The claim is saved with the user, in one transaction: a second signup racing for the
    # name fails to create or change the same claim, is decided again, and is refused.
    if username is not None and not claim_username(uow, username, user.subject, meta):
        raise UsernameOrEmailExists(f"the username {username} is taken")
    uow.add(user)
    return user.subject


def change_username(command: ChangeUsername, uow: UnitOfWork) -> None:
    """OpenShock's rename: the new name checked and claimed, the old one released at once."""
    user = _user(uow, command.subject)
    username = checked_username(command.username)
    if user.username == username:
        return  # unchanged, as the real API answers it
    if not command.ignore_cooldown and not may_change_username(
        user.username_changed_at, command.at
    ):
        raise UsernameRecentlyChanged(
            "You have recently changed your username. You can only change your username "
            "every 7 days"
        )
    meta = command.context.as_metadata()
    if not claim_username(uow, username, user.subject, meta):
        raise UsernameTaken("This username is already in use")
    previous = user.username
    if previous is not None and username_id(previous) != username_id(username):
        old = uow.get(Username, username_id(previous))
        if old is not None and old.holder == user.subject:
            old.release(meta=meta)
    user.change_username(username=username, previous=previous, at=command.at, meta=meta)


def _user(uow: UnitOfWork, subject: str) -> User:
    try:
        user = uow.get(User, UUID(subject))
    except ValueError:
        user = None
    if user is None:
        raise NotFound("no such user")
    return user


def update_account(command: UpdateAccount, uow: UnitOfWork) -> None:
    user = _user(uow, command.subject)
    name = user.name if command.name is None else command.name.strip()
    if not name or len(name) > 200:
        raise DomainError("a user needs a display name of 1 to 200 characters")
    scale = command.temperature_scale or user.temperature_scale
    matching = [s for s in TEMPERATURE_SCALES if s.lower() == scale.lower()]
    if not matching:
        raise DomainError(f"temperatureScale must be one of {', '.join(TEMPERATURE_SCALES)}")
    language = command.language or user.language
    if not _LANGUAGE.match(language):
        raise DomainError("language must be a language tag such as en, nb or en-GB")
    meta = command.context.as_metadata()
    if (name, matching[0], language) != (user.name, user.temperature_scale, user.language):
        user.change_settings(name=name, temperature_scale=matching[0], language=language, meta=meta)
    if command.password_hash is not None:
        user.change_password(password_hash=command.password_hash, meta=meta)


def record_login(command: RecordLogin, uow: UnitOfWork) -> None:
    user = uow.get(User, user_id(command.email))
    if user is None:
        return  # unknown accounts have no history to keep; the address limiter counts them
    meta = command.context.as_metadata()
    if command.succeeded:
        user.record_login(client_id=command.client_id, meta=meta)
    else:
        user.record_failed_login(
            reason=command.reason, at=command.at, client_id=command.client_id, meta=meta
        )


def grant_consent(command: GrantConsent, uow: UnitOfWork) -> None:
    user = _user(uow, command.subject)
    if not user.has_consented(command.client_id, list(command.scopes)):
        user.grant_consent(
            client_id=command.client_id,
            scopes=list(command.scopes),
            meta=command.context.as_metadata(),
        )


def register_client(command: RegisterClient, uow: UnitOfWork) -> None:
    if not re.fullmatch(r"[A-Za-z0-9._~-]{3,100}", command.client_id):
        raise DomainError("client_id must be 3 to 100 characters of A-Z a-z 0-9 . _ ~ -")
    unknown = set(command.grant_types) - GRANT_TYPES
    if unknown:
        raise DomainError(f"unknown grant types: {', '.join(sorted(unknown))}")
    if command.public == (command.secret_hash is not None):
        raise DomainError("a confidential client needs a secret; a public client has none")
    if command.id_token_alg not in ("RS256", "ES256"):
        raise DomainError("id_token_alg must be RS256 or ES256")
    if command.public and "client_credentials" in command.grant_types:
        raise DomainError("a public client cannot use client_credentials")
    for uri in command.redirect_uris:
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", uri) or "#" in uri:
            raise DomainError(f"redirect URI {uri!r} must be absolute and without a fragment")
    if uow.get(OAuthClient, oauth_client_id(command.client_id)) is not None:
        raise DomainError(f"client {command.client_id} already exists")
    uow.add(
        OAuthClient(
            client_id=command.client_id,
            name=command.name,
            public=command.public,
            redirect_uris=list(command.redirect_uris),
            grant_types=list(command.grant_types),
            scopes=list(command.scopes),
            secret_hash=command.secret_hash,
            meta=command.context.as_metadata(),
            id_token_alg=command.id_token_alg,
        )
    )


def rotate_client_secret(command: RotateClientSecret, uow: UnitOfWork) -> None:
    client = uow.get(OAuthClient, oauth_client_id(command.client_id))
    if client is None:
        raise NotFound(f"no client {command.client_id}")
    if client.public:
        raise DomainError("a public client has no secret to rotate")
    client.rotate_secret(
        secret_hash=command.secret_hash,
        previous_valid_until=command.previous_valid_until,
        meta=command.context.as_metadata(),
    )


def start_token_grant(command: StartTokenGrant, uow: UnitOfWork) -> None:
    uow.add(
        TokenGrant(
            grant_id=command.grant_id,
            client_id=command.client_id,
            subject=command.subject,
            scope=command.scope,
            grant_type=command.grant_type,
            access_token_id=command.access_token_id,
            refresh_token_hash=command.refresh_token_hash,
            refresh_expires_at=command.refresh_expires_at,
            meta=command.context.as_metadata(),
        )
    )


def issue_authorization_code(command: IssueAuthorizationCode, uow: UnitOfWork) -> None:
    uow.add(
        AuthorizationCode(
            code_hash=command.code_hash,
            client_id=command.client_id,
            redirect_uri=command.redirect_uri,
            scope=command.scope,
            subject=command.subject,
            nonce=command.nonce,
            code_challenge=command.code_challenge,
            code_challenge_method=command.code_challenge_method,
            auth_time=command.auth_time,
            expires_at=command.expires_at,
            meta=command.context.as_metadata(),
        )
    )


def redeem_authorization_code(command: RedeemAuthorizationCode, uow: UnitOfWork) -> RedeemOutcome:
    code = uow.get(AuthorizationCode, authorization_code_id(command.code_hash))
    meta = command.context.as_metadata()
    if code is None:
        return RedeemOutcome.INVALID
    if code.redeemed_by_grant is not None:
        code.detect_reuse(meta=meta)
        earlier = uow.get(TokenGrant, UUID(code.redeemed_by_grant))
        if earlier is not None and not earlier.revoked:
            earlier.revoke(reason="authorization code reused", meta=meta)
        return RedeemOutcome.REUSED
    code.redeem(grant_id=str(command.grant.grant_id), meta=meta)
    start_token_grant(command.grant, uow)
    return RedeemOutcome.REDEEMED


def request_device_authorization(command: RequestDeviceAuthorization, uow: UnitOfWork) -> None:
    if uow.get(DeviceAuthorization, device_authorization_id(command.user_code)) is not None:
        raise DomainError("user code collision; ask again")
    uow.add(
        DeviceAuthorization(
            user_code=normalise_user_code(command.user_code),
            device_code_hash=command.device_code_hash,
            client_id=command.client_id,
            scope=command.scope,
            expires_at=command.expires_at,
            meta=command.context.as_metadata(),
        )
    )


def decide_device_authorization(command: DecideDeviceAuthorization, uow: UnitOfWork) -> None:
    request = uow.get(DeviceAuthorization, device_authorization_id(command.user_code))
    if request is None or request.is_expired(command.at):
        raise NotFound("this code is unknown or has expired")
    if request.approved is not None:
        raise DomainError("this code has already been used")
    meta = command.context.as_metadata()
    if command.approve:
        request.approve(subject=command.subject, auth_time=command.auth_time, meta=meta)
    else:
        request.deny(subject=command.subject, meta=meta)


def redeem_device_authorization(
    command: RedeemDeviceAuthorization, uow: UnitOfWork
) -> RedeemOutcome:
    request = uow.get(DeviceAuthorization, device_authorization_id(command.user_code))
    if request is None or not request.approved:
        return RedeemOutcome.INVALID
    if request.redeemed_by_grant is not None:
        return RedeemOutcome.REUSED
    request.redeem(grant_id=str(command.grant.grant_id), meta=command.context.as_metadata())
    start_token_grant(command.grant, uow)
    return RedeemOutcome.REDEEMED


def refresh_token_grant(command: RefreshTokenGrant, uow: UnitOfWork) -> RefreshOutcome:
    grant = uow.get(TokenGrant, command.grant_id)
    if grant is None or grant.revoked:
        return RefreshOutcome.INVALID
    meta = command.context.as_metadata()
    if any(hmac.compare_digest(h, command.presented_hash) for h in grant.replaced_hashes):
        grant.revoke(reason="refresh token reused", meta=meta)
        return RefreshOutcome.REUSED
    current = grant.refresh_token_hash or ""
    if not hmac.compare_digest(current, command.presented_hash):
        return RefreshOutcome.INVALID
    if not grant.refresh_usable_at(command.at):
        return RefreshOutcome.INVALID
    grant.refresh(
        access_token_id=command.access_token_id,
        refresh_token_hash=command.refresh_token_hash,
        refresh_expires_at=command.refresh_expires_at,
        meta=meta,
    )
    return RefreshOutcome.ROTATED


def revoke_token_grant(command: RevokeTokenGrant, uow: UnitOfWork) -> None:
    grant = uow.get(TokenGrant, command.grant_id)
    if grant is not None and not grant.revoked:
        grant.revoke(reason=command.reason, meta=command.context.as_metadata())


def add_signing_key(command: AddSigningKey, uow: UnitOfWork) -> None:
    ring = uow.get(SigningKeyRing, KEY_RING_ID)
    meta = command.context.as_metadata()
    if ring is None:
        ring = SigningKeyRing(meta=meta)
        uow.add(ring)
    ring.add_key(
        kid=command.kid,
        alg=command.alg,
        public_jwk=command.public_jwk,
        private_key_encrypted=command.private_key_encrypted,
        added_at=command.added_at,
        meta=meta,
    )


HANDLERS = {
    UpdateAccount: update_account,
    RegisterUser: register_user,
    ChangeUsername: change_username,
    **SESSION_HANDLERS,
    RecordLogin: record_login,
    RegisterClient: register_client,
    RotateClientSecret: rotate_client_secret,
    StartTokenGrant: start_token_grant,
    RefreshTokenGrant: refresh_token_grant,
    RevokeTokenGrant: revoke_token_grant,
    AddSigningKey: add_signing_key,
    IssueAuthorizationCode: issue_authorization_code,
    RedeemAuthorizationCode: redeem_authorization_code,
    GrantConsent: grant_consent,
    RequestDeviceAuthorization: request_device_authorization,
    DecideDeviceAuthorization: decide_device_authorization,
    RedeemDeviceAuthorization: redeem_device_authorization,
}
