"""The grants we accept, on authlib's protocol rules, each minting and saving through the server."""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

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
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import (
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
)
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.grants import OpenIDHybridGrant, OpenIDImplicitGrant

from api.identity.oauth_models import (
    Client,
    DeviceCredential,
    HublineRequest,
    IssuedCode,
    PresentedRefreshToken,
    Principal,
    user_claims,
)
from domain.context import CommandContext
from domain.identity.commands import (
    IssueAuthorizationCode,
    RequestDeviceAuthorization,
)
from domain.identity.device_authorization import normalise_user_code
from infra.identity.credentials import hash_token

if TYPE_CHECKING:
    from api.identity.authorization_server import HublineAuthorizationServer


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
        found = self.server.natural_keys.authorization_code(code_hash)
        if found is None or found.client_id != client.get_client_id():
            return None
        if found.redeemed_by_grant is None and datetime.now(UTC) >= found.expires_at:
            return None
        # A used code still answers here: saving the token finds it used and revokes.
        return IssuedCode(found, code_hash)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Redeemed when the tokens are saved, in the same transaction."""

    def authenticate_user(self, authorization_code: IssuedCode) -> Principal | None:
        user = self.server.natural_keys.user_by_subject(authorization_code.code.subject)
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
        return self.server.tokens.id_token_key(self.get_client_algorithm(client))

    def get_client_algorithm(self, client: Client) -> str:
        return client.aggregate.id_token_alg  # RS256 unless the client registered ES256

    def get_encode_header(self, client: Client) -> dict[str, str]:
        alg = self.get_client_algorithm(client)
        return {"alg": alg, "kid": self.server.tokens.id_token_kid(alg), "typ": "JWT"}

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


DEVICE_CODE_LIFETIME = timedelta(minutes=10)


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
        found = self.server.natural_keys.device_authorization(user_code)
        if found is None or not hmac.compare_digest(
            found.device_code_hash, hash_token(device_code)
        ):
            return None
        return DeviceCredential(found)

    def query_user_grant(self, user_code: str) -> tuple[Principal | None, bool] | None:
        found = self.server.natural_keys.device_authorization(user_code)
        if found is None or found.approved is None:
            return None  # authorization_pending
        if not found.approved or found.subject is None:
            return None, False  # access_denied
        user = self.server.natural_keys.user_by_subject(found.subject)
        return (Principal(user, found.auth_time), True) if user else (None, False)


class RotatingRefreshGrant(_IssuesOurTokens, RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> PresentedRefreshToken | None:
        return self.server.presented_refresh_token(refresh_token)

    def authenticate_user(self, credential: PresentedRefreshToken) -> Principal | None:
        user = self.server.natural_keys.user_by_subject(credential.subject)
        return Principal(user) if user is not None else None

    def revoke_old_credential(self, refresh_token: PresentedRefreshToken) -> None:
        """Rotation already replaced it, atomically with issuing the new one."""
