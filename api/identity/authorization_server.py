"""OAuth 2.0 token issuance on authlib's protocol rules, with every grant recorded as events.

authlib validates requests and shapes responses (RFC 6749, 6750); this module supplies
what it asks for: our clients and users, how tokens are minted (JWT access tokens,
rotating refresh tokens `<grant id>.<secret>`), and how they are saved (commands).
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
)
from authlib.oauth2.rfc8628 import (
    DEVICE_CODE_GRANT_TYPE,
)

from api.identity.grants import (
    CodeGrant,
    CredentialsGrant,
    DeviceEndpoint,
    DeviceFlow,
    HublineOpenIDCode,
    HybridFlow,
    ImplicitFlow,
    PasswordGrant,
    RotatingRefreshGrant,
    S256Only,
)
from api.identity.oauth_models import (
    Client,
    DeviceCredential,
    HublineRequest,
    Issued,
    IssuedCode,
    PresentedRefreshToken,
    Principal,
)
from domain.context import CommandContext
from domain.identity.commands import (
    RecordLogin,
    RedeemAuthorizationCode,
    RedeemDeviceAuthorization,
    StartTokenGrant,
)
from domain.identity.commands import RefreshTokenGrant as RefreshCommand
from domain.identity.handlers import RedeemOutcome, RefreshOutcome
from infra.command_bus import CommandBus
from infra.identity.access_tokens import AccessTokens
from infra.identity.credentials import hash_token
from infra.identity.passwords import verify_password
from infra.limits.failure_limiter import FailureLimiter
from infra.store.natural_keys import NaturalKeys

SCOPES_SUPPORTED = ("openid", "profile", "email", "restapi", "offline_access")
_DESCRIPTIONS = {
    "unsupported_grant_type": "The grant_type is not supported by this server.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": "The grant is invalid, expired or revoked.",
    "invalid_scope": "A requested scope is not allowed for this client.",
    "unauthorized_client": "This client may not use this grant type.",
    "invalid_request": "The request is missing a parameter or is malformed.",
}


class HublineAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(
        self,
        natural_keys: NaturalKeys,
        tokens: AccessTokens,
        bus: CommandBus,
        refresh_lifetime: int,
        login_failures: FailureLimiter,
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES_SUPPORTED))
        self.natural_keys = natural_keys
        self.tokens = tokens
        self.bus = bus
        self.refresh_lifetime = refresh_lifetime
        self.login_failures = login_failures
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
        found = self.natural_keys.client(client_id)
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
        """Every attempt is recorded; the account locks after repeated failures, and an
        address that keeps failing is slowed down and then refused for a while."""
        address = f"login:{context.source_address}"
        failures = self.login_failures.recent(address)
        if failures:
            time.sleep(min(2.0, 0.2 * failures))  # each failure makes the next try slower
        user = self.natural_keys.user_by_email(email)
        if self.login_failures.blocked(address) > 0:
            verify_password(None, password)
            reason, ok = "too many failed logins from this address", False
        elif user is not None and user.is_locked(datetime.now(UTC)):
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
        if not ok:
            self.login_failures.record_failure(address)
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
            refresh_hash = hash_token(refresh)
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
        grant = self.natural_keys.grant(grant_id)
        if grant is None or grant.subject is None:
            return None
        # Validity (current, replaced, expired, revoked) is decided when rotating, in one
        # transaction with the rotation itself; here we only name the family.
        return PresentedRefreshToken(
            grant_id=grant_id,
            presented_hash=hash_token(token),
            client_id=grant.client_id,
            subject=grant.subject,
            scope=grant.scope,
        )
