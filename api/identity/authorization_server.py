"""OAuth 2.0 token issuance on authlib's protocol rules, with every grant recorded as events.

authlib validates requests and shapes responses (RFC 6749, 6750); this module supplies
what it asks for: our clients and users, how tokens are minted (JWT access tokens,
rotating refresh tokens `<grant id>.<secret>`), and how they are saved (commands).
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
)
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
    ResourceOwnerPasswordCredentialsGrant,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import (
    DEVICE_CODE_GRANT_TYPE,
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
)
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.grants import OpenIDHybridGrant, OpenIDImplicitGrant

from domain.context import CommandContext
from domain.identity.authorization_code import AuthorizationCode
from domain.identity.commands import (
    IssueAuthorizationCode,
    RecordLogin,
    RedeemAuthorizationCode,
    RedeemDeviceAuthorization,
    RequestDeviceAuthorization,
    StartTokenGrant,
)
from domain.identity.commands import RefreshTokenGrant as RefreshCommand
from domain.identity.device_authorization import DeviceAuthorization, normalise_user_code
from domain.identity.handlers import RedeemOutcome, RefreshOutcome
from domain.identity.oauth_client import OAuthClient
from domain.identity.user import User
from infra.command_bus import CommandBus
from infra.credentials import hash_token
from infra.identity.access_tokens import AccessTokens
from infra.identity.directory import Directory, client_secret_matches
from infra.passwords import verify_password

SCOPES_SUPPORTED = ("openid", "profile", "email", "restapi", "offline_access")
_DESCRIPTIONS = {
    "unsupported_grant_type": "The grant_type is not supported by this server.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": "The grant is invalid, expired or revoked.",
    "invalid_scope": "A requested scope is not allowed for this client.",
    "unauthorized_client": "This client may not use this grant type.",
    "invalid_request": "The request is missing a parameter or is malformed.",
}


class Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, aggregate: OAuthClient) -> None:
        self.aggregate = aggregate

    def get_client_id(self) -> str:
        return self.aggregate.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.aggregate.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.aggregate.scopes)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.aggregate.redirect_uris  # exact match, no prefixes

    def check_client_secret(self, client_secret: str) -> bool:
        return not self.aggregate.public and client_secret_matches(self.aggregate, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "authorization":
            # Front-channel flows (implicit, hybrid) authenticate no client; the redirect
            # URI and response type checks are what bind them to it.
            return True
        if self.aggregate.public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        parts = set(response_type.split())
        grants = self.aggregate.grant_types
        if "code" in parts and "authorization_code" not in grants:
            return False
        # id_token and token from the authorization endpoint: implicit, or hybrid with code.
        return not (parts & {"id_token", "token"}) or "implicit" in grants

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.aggregate.grant_types


class Principal:
    """The user a grant acts for, as authlib sees it."""

    def __init__(self, user: User, auth_time: int | None = None) -> None:
        self.user = user
        self.auth_time = auth_time if auth_time is not None else int(time.time())

    def get_user_id(self) -> str:
        return self.user.subject


@dataclass
class PresentedRefreshToken:
    grant_id: str
    presented_hash: str
    client_id: str
    subject: str
    scope: str

    def check_client(self, client: Client) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return False  # checked by the grant aggregate when it rotates

    def is_revoked(self) -> bool:
        return False


@dataclass
class Issued:
    """What was minted for one token response, recorded when authlib saves it."""

    grant_id: str
    grant_type: str
    access_token_id: str
    refresh_token_hash: str | None
    new_grant: bool
    extras: dict[str, Any] = field(default_factory=dict)


refresh_token_hash = hash_token


class HublineRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],  # case-insensitive: authlib asks for "Authorization"
        form: dict[str, str],
        args: dict[str, str],
        context: CommandContext,
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._form = form
        self._args = args
        self.payload = BasicOAuth2Payload({**args, **form})
        self.context = context
        self.issued: Issued | None = None

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return self._args


class _IssuesOurTokens:
    """Every grant mints through the server, which knows the grant family."""

    request: HublineRequest
    server: HublineAuthorizationServer
    GRANT_TYPE: str

    def generate_token(
        self,
        user: Principal | None = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return self.server.issue(
            self.request, grant_type or self.GRANT_TYPE, user, scope or "", include_refresh_token
        )


class PasswordGrant(_IssuesOurTokens, ResourceOwnerPasswordCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def authenticate_user(self, username: str, password: str) -> Principal | None:
        principal = self.server.authenticate_user(self.request, username, password)
        if principal is None:
            # RFC 6749 §5.2: wrong resource-owner credentials are an invalid grant.
            raise InvalidGrantError("The e-mail or password is wrong, or the account is locked.")
        return principal


class CredentialsGrant(_IssuesOurTokens, ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


@dataclass
class IssuedCode:
    """An authorization code as authlib asks about it."""

    code: AuthorizationCode
    code_hash: str

    @property
    def code_challenge(self) -> str | None:
        return self.code.code_challenge

    @property
    def code_challenge_method(self) -> str | None:
        return self.code.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return self.code.scope

    def get_nonce(self) -> str | None:
        return self.code.nonce

    def get_auth_time(self) -> int:
        return self.code.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return ["pwd"]


CODE_LIFETIME = timedelta(minutes=5)


class CodeGrant(_IssuesOurTokens, AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        client: Client = self.request.client
        if client.aggregate.public and not self.request.payload.data.get("code_challenge"):
            raise InvalidRequestError(
                "Public clients must use PKCE (code_challenge with S256).",
                redirect_uri=redirect_uri,
                state=self.request.payload.state,
            )
        return redirect_uri

    def save_authorization_code(self, code: str, request: HublineRequest) -> None:
        save_code(self, code, request)

    def query_authorization_code(self, code: str, client: Client) -> IssuedCode | None:
        code_hash = hash_token(code)
        found = self.server.directory.authorization_code(code_hash)
        if found is None or found.client_id != client.get_client_id():
            return None
        if found.redeemed_by_grant is None and datetime.now(UTC) >= found.expires_at:
            return None
        # A used code still answers here: saving the token finds it used and revokes.
        return IssuedCode(found, code_hash)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Redeemed when the tokens are saved, in the same transaction."""

    def authenticate_user(self, authorization_code: IssuedCode) -> Principal | None:
        user = self.server.directory.user_by_subject(authorization_code.code.subject)
        return Principal(user, authorization_code.code.auth_time) if user else None


def save_code(grant: Any, code: str, request: HublineRequest) -> None:
    data = request.payload.data
    challenge = data.get("code_challenge")
    grant.server.bus.execute_now(
        IssueAuthorizationCode(
            code_hash=hash_token(code),
            client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            scope=request.payload.scope or "",
            subject=request.user.get_user_id(),
            nonce=data.get("nonce"),
            code_challenge=challenge,
            code_challenge_method=(data.get("code_challenge_method") or "S256")
            if challenge
            else None,
            auth_time=request.user.auth_time,
            expires_at=datetime.now(UTC) + CODE_LIFETIME,
            context=request.context,
        )
    )


class S256Only(CodeChallenge):  # type: ignore[misc]
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]


class _SignsIdTokens:
    """How id_tokens are signed and what they say, for every flow that issues them."""

    server: HublineAuthorizationServer

    def resolve_client_private_key(self, client: Client) -> Any:
        return self.server.tokens.id_token_key()

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.server.tokens.id_token_kid(), "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.server.tokens.issuer, "aud": [client.get_client_id()]}

    def exists_nonce(self, nonce: str, request: HublineRequest) -> bool:
        return False

    def generate_user_info(self, user: Principal, scope: str) -> dict[str, Any]:
        return user_claims(user.user, scope)


class HublineOpenIDCode(_SignsIdTokens, OpenIDCode):  # type: ignore[misc]
    """id_tokens for the code flow."""

    def __init__(self, server: HublineAuthorizationServer) -> None:
        super().__init__(require_nonce=False)
        self.server = server


class ImplicitFlow(_SignsIdTokens, _IssuesOurTokens, OpenIDImplicitGrant):  # type: ignore[misc]
    """response_type id_token and id_token token (fragment or form_post)."""

    def authenticate_token_endpoint_client(self) -> Client:
        # authlib would allow only public clients here; OpenID Connect lets confidential
        # ones use the front channel too (as Duende does). Nothing is authenticated at the
        # authorization endpoint: the exact redirect URI binds the response to the client.
        client = self.server.query_client(self.request.payload.client_id)
        if client is None:
            raise InvalidClientError(description="The client does not exist on this server.")
        return client


class HybridFlow(_SignsIdTokens, _IssuesOurTokens, OpenIDHybridGrant):  # type: ignore[misc]
    """response_type code id_token, code token and code id_token token."""

    def save_authorization_code(self, code: str, request: HublineRequest) -> None:
        save_code(self, code, request)


def user_claims(user: User, scope: str) -> dict[str, Any]:
    scopes = scope.split()
    claims: dict[str, Any] = {"sub": user.subject}
    if "profile" in scopes:
        claims |= {"name": user.name, "preferred_username": user.email}
    if "email" in scopes:
        claims |= {"email": user.email, "email_verified": False}
    return claims


DEVICE_CODE_LIFETIME = timedelta(minutes=10)


@dataclass
class DeviceCredential:
    request: DeviceAuthorization

    def get_client_id(self) -> str:
        return self.request.client_id

    def get_scope(self) -> str:
        return self.request.scope

    def get_user_code(self) -> str:
        return self.request.user_code

    def is_expired(self) -> bool:
        return self.request.is_expired(datetime.now(UTC))


class DeviceEndpoint(DeviceAuthorizationEndpoint):  # type: ignore[misc]
    """/connect/deviceauthorization: a device without a browser asks to sign someone in."""

    ENDPOINT_NAME = "device_authorization"
    EXPIRES_IN = int(DEVICE_CODE_LIFETIME.total_seconds())
    INTERVAL = 5

    def get_verification_uri(self) -> str:
        return f"{self.server.tokens.issuer}/device"

    def save_device_credential(
        self, client_id: str, scope: str | None, data: dict[str, Any]
    ) -> None:
        # The device code names its request, so the token endpoint finds it without an index.
        user_code = normalise_user_code(data["user_code"])
        data["device_code"] = f"{user_code}.{data['device_code']}"
        self.server.bus.execute_now(
            RequestDeviceAuthorization(
                user_code=user_code,
                device_code_hash=hash_token(data["device_code"]),
                client_id=client_id,
                scope=scope or "",
                expires_at=datetime.now(UTC) + DEVICE_CODE_LIFETIME,
                context=CommandContext(actor_id=client_id, actor_kind="oauth_client"),
            )
        )


class DeviceFlow(_IssuesOurTokens, DeviceCodeGrant):  # type: ignore[misc]
    # Last poll per user code, on this node: polling faster than the interval is told to
    # slow down (RFC 8628 §3.5). Bounded: old entries go when it grows.
    _last_poll: dict[str, float] = {}

    def should_slow_down(self, credential: DeviceCredential) -> bool:
        now = time.monotonic()
        polls = DeviceFlow._last_poll
        if len(polls) > 10_000:
            polls.clear()
        previous = polls.get(credential.get_user_code())
        polls[credential.get_user_code()] = now
        return previous is not None and now - previous < DeviceEndpoint.INTERVAL - 0.5
    def query_device_credential(self, device_code: str) -> DeviceCredential | None:
        user_code, _, secret = device_code.partition(".")
        if not secret or len(device_code) > 200:
            return None
        found = self.server.directory.device_authorization(user_code)
        if found is None or not hmac.compare_digest(
            found.device_code_hash, hash_token(device_code)
        ):
            return None
        return DeviceCredential(found)

    def query_user_grant(self, user_code: str) -> tuple[Principal | None, bool] | None:
        found = self.server.directory.device_authorization(user_code)
        if found is None or found.approved is None:
            return None  # authorization_pending
        if not found.approved or found.subject is None:
            return None, False  # access_denied
        user = self.server.directory.user_by_subject(found.subject)
        return (Principal(user, found.auth_time), True) if user else (None, False)


class RotatingRefreshGrant(_IssuesOurTokens, RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> PresentedRefreshToken | None:
        return self.server.presented_refresh_token(refresh_token)

    def authenticate_user(self, credential: PresentedRefreshToken) -> Principal | None:
        user = self.server.directory.user_by_subject(credential.subject)
        return Principal(user) if user is not None else None

    def revoke_old_credential(self, refresh_token: PresentedRefreshToken) -> None:
        """Rotation already replaced it, atomically with issuing the new one."""


class HublineAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(
        self,
        directory: Directory,
        tokens: AccessTokens,
        bus: CommandBus,
        refresh_lifetime: int,
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES_SUPPORTED))
        self.directory = directory
        self.tokens = tokens
        self.bus = bus
        self.refresh_lifetime = refresh_lifetime
        self.register_grant(CodeGrant, [S256Only(required=True), HublineOpenIDCode(self)])
        self.register_grant(ImplicitFlow)
        self.register_grant(HybridFlow)
        self.register_grant(DeviceFlow)
        self.register_endpoint(DeviceEndpoint)
        self.register_grant(PasswordGrant)
        self.register_grant(CredentialsGrant)
        self.register_grant(RotatingRefreshGrant)

    # -- what authlib asks of a server ----------------------------------------------

    def query_client(self, client_id: str) -> Client | None:
        found = self.directory.client(client_id)
        return Client(found) if found is not None else None

    def create_oauth2_request(self, request: HublineRequest) -> HublineRequest:
        return request  # the route already read and checked the form

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        if isinstance(body, dict) and "error" in body and not body.get("error_description"):
            body["error_description"] = _DESCRIPTIONS.get(body["error"], body["error"])
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    # -- users -----------------------------------------------------------------------

    def authenticate_user(
        self, request: HublineRequest, username: str, password: str
    ) -> Principal | None:
        client_id = request.payload.client_id or (
            request.client.get_client_id() if request.client else None
        )
        return self.check_password(username, password, request.context, client_id)

    def check_password(
        self, email: str, password: str, context: CommandContext, client_id: str | None
    ) -> Principal | None:
        """Every attempt is recorded; the account locks after repeated failures."""
        user = self.directory.user_by_email(email)
        if user is not None and user.is_locked(datetime.now(UTC)):
            verify_password(None, password)  # the same cost as a real check
            reason, ok = "locked out", False
        elif not verify_password(user.password_hash if user else None, password) or user is None:
            # An unknown e-mail costs one hash check too, so timing tells nothing.
            reason, ok = "wrong e-mail or password", False
        else:
            reason, ok = "", True
        self.bus.execute_now(
            RecordLogin(
                email=email,
                succeeded=ok,
                at=datetime.now(UTC),
                client_id=client_id,
                reason=reason,
                context=context,
            )
        )
        return Principal(user) if ok and user is not None else None

    # -- minting and saving ----------------------------------------------------------

    def issue(
        self,
        request: HublineRequest,
        grant_type: str,
        user: Principal | None,
        scope: str,
        include_refresh_token: bool,
    ) -> dict[str, Any]:
        presented: PresentedRefreshToken | None = request.refresh_token
        grant_id = presented.grant_id if presented is not None else str(uuid.uuid4())
        client_id = request.client.get_client_id()
        subject = user.get_user_id() if user is not None else None
        auth_time = user.auth_time if user is not None else None
        minted = self.tokens.mint(client_id, subject, scope, grant_id=grant_id, auth_time=auth_time)
        token: dict[str, Any] = {
            "access_token": minted.token,
            "token_type": "Bearer",
            "expires_in": minted.expires_in,
            "scope": scope,
        }
        refresh_hash = None
        # Refresh tokens go to users who asked for offline access (and always on rotation).
        wants_refresh = "offline_access" in scope.split() or presented is not None
        if include_refresh_token and user is not None and wants_refresh:
            refresh = f"{grant_id}.{secrets.token_urlsafe(32)}"
            refresh_hash = refresh_token_hash(refresh)
            token["refresh_token"] = refresh
        request.issued = Issued(
            grant_id, grant_type, minted.jti, refresh_hash, new_grant=presented is None
        )
        return token

    def save_token(self, token: dict[str, Any], request: HublineRequest) -> None:
        issued = request.issued
        assert issued is not None
        expires = datetime.now(UTC) + timedelta(seconds=self.refresh_lifetime)
        start = StartTokenGrant(
            grant_id=uuid.UUID(issued.grant_id),
            client_id=request.client.get_client_id(),
            subject=request.user.get_user_id() if request.user else None,
            scope=token.get("scope", ""),
            grant_type=issued.grant_type,
            access_token_id=issued.access_token_id,
            refresh_token_hash=issued.refresh_token_hash,
            refresh_expires_at=expires if issued.refresh_token_hash else None,
            context=request.context,
        )
        if issued.grant_type == "authorization_code":
            issued_code: IssuedCode = request.authorization_code
            redeemed = self.bus.execute_now(
                RedeemAuthorizationCode(
                    code_hash=issued_code.code_hash, grant=start, context=request.context
                )
            )
            if redeemed is RedeemOutcome.REUSED:
                raise InvalidGrantError("The code was already used; its tokens are revoked.")
            if redeemed is not RedeemOutcome.REDEEMED:
                raise InvalidGrantError("The code is invalid or expired.")
            return
        if issued.grant_type == DEVICE_CODE_GRANT_TYPE:
            credential: DeviceCredential = request.credential
            outcome = self.bus.execute_now(
                RedeemDeviceAuthorization(
                    user_code=credential.get_user_code(), grant=start, context=request.context
                )
            )
            if outcome is not RedeemOutcome.REDEEMED:
                raise InvalidGrantError("The device code was already used or is invalid.")
            return
        if issued.new_grant:
            self.bus.execute_now(start)
            return
        presented: PresentedRefreshToken = request.refresh_token
        outcome = self.bus.execute_now(
            RefreshCommand(
                grant_id=uuid.UUID(issued.grant_id),
                presented_hash=presented.presented_hash,
                access_token_id=issued.access_token_id,
                refresh_token_hash=issued.refresh_token_hash or "",
                refresh_expires_at=expires,
                at=datetime.now(UTC),
                context=request.context,
            )
        )
        if outcome is RefreshOutcome.REUSED:
            raise InvalidGrantError("The refresh token was already used; its grant is revoked.")
        if outcome is not RefreshOutcome.ROTATED:
            raise InvalidGrantError("The refresh token is invalid, expired or revoked.")

    def presented_refresh_token(self, token: str) -> PresentedRefreshToken | None:
        grant_id, _, secret = token.partition(".")
        if not secret or len(token) > 200:
            return None
        grant = self.directory.grant(grant_id)
        if grant is None or grant.subject is None:
            return None
        # Validity (current, replaced, expired, revoked) is decided when rotating, in one
        # transaction with the rotation itself; here we only name the family.
        return PresentedRefreshToken(
            grant_id=grant_id,
            presented_hash=refresh_token_hash(token),
            client_id=grant.client_id,
            subject=grant.subject,
            scope=grant.scope,
        )
