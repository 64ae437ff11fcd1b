"""The OpenID provider's endpoints, at the paths Duende IdentityServer (and so SENZ) uses."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api import rate_limiting
from api.identity import schemas
from api.identity.authorization_server import SCOPES_SUPPORTED, HublineAuthorizationServer
from api.identity.errors import oauth_error
from api.identity.oauth_models import HublineRequest
from api.identity.token_management import TokenManagement
from api.identity.token_requests import read_form
from infra.identity.access_token_validator import AccessTokenValidator
from infra.identity.access_tokens import InvalidAccessToken
from infra.identity.credentials import bearer_token
from infra.identity.signing_keys import SigningKeys
from infra.limits.rate_limits import RateLimiter
from infra.request_context import command_context
from infra.store.natural_keys import NaturalKeys

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


async def _oauth_request(request: Request, issuer: str) -> HublineRequest:
    form = await read_form(request)
    return HublineRequest(
        method=request.method,
        uri=issuer + request.url.path,
        headers=request.headers,
        form=form,
        args=dict(request.query_params),
        context=command_context(request),
    )


def identity_router(
    server: HublineAuthorizationServer,
    issuer: str,
    signing_keys: SigningKeys,
    validator: AccessTokenValidator,
    natural_keys: NaturalKeys,
    rate_limiter: RateLimiter,
    token_management: TokenManagement,
) -> APIRouter:
    router = APIRouter(tags=["Identity"])

    @router.get("/.well-known/openid-configuration", summary="OpenID Provider metadata")
    async def discovery(request: Request) -> dict[str, Any]:
        return {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/openid-configuration/jwks",
            "authorization_endpoint": f"{issuer}/connect/authorize",
            "token_endpoint": f"{issuer}/connect/token",
            "userinfo_endpoint": f"{issuer}/connect/userinfo",
            "revocation_endpoint": f"{issuer}/connect/revocation",
            "introspection_endpoint": f"{issuer}/connect/introspect",
            "end_session_endpoint": f"{issuer}/connect/endsession",
            "device_authorization_endpoint": f"{issuer}/connect/deviceauthorization",
            "scopes_supported": list(SCOPES_SUPPORTED),
            "claims_supported": ["sub", "name", "email", "preferred_username", "updated_at"],
            "grant_types_supported": [
                "authorization_code",
                "implicit",
                "refresh_token",
                "password",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:device_code",
            ],
            "response_types_supported": [
                "code",
                "id_token",
                "id_token token",
                "code id_token",
                "code token",
                "code id_token token",
            ],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "token_endpoint_auth_methods_supported": _CLIENT_AUTH,
            "revocation_endpoint_auth_methods_supported": _CLIENT_AUTH,
            "introspection_endpoint_auth_methods_supported": _CLIENT_AUTH,
            "code_challenge_methods_supported": ["S256"],
            "request_parameter_supported": False,
            "claims_parameter_supported": False,
            "prompt_values_supported": ["none", "login", "consent"],
        }

    @router.get("/.well-known/openid-configuration/jwks", summary="The provider's public keys")
    async def jwks(request: Request) -> JSONResponse:
        keys = await run_in_threadpool(signing_keys.jwks)
        return JSONResponse(keys, headers={"Cache-Control": "public, max-age=300"})

    @router.post(
        "/connect/token",
        summary="Token endpoint (RFC 6749 §3.2)",
        responses={**schemas.TOKENS, **schemas.oauth_errors(400, 401, 413, 415)},
        openapi_extra=schemas.form(schemas.TOKEN_FORM, required=("grant_type",)),
    )
    async def token(request: Request) -> JSONResponse:
        oauth_request = await _oauth_request(request, issuer)
        status, body, headers = await run_in_threadpool(server.create_token_response, oauth_request)
        return JSONResponse(body, status_code=status, headers={**dict(headers), **_NO_STORE})

    @router.get(
        "/connect/userinfo",
        name="userinfo_get",
        summary="UserInfo (OIDC Core §5.3)",
        responses=schemas.oauth_errors(401, 403),
    )
    @router.post(
        "/connect/userinfo",
        name="userinfo_post",
        summary="UserInfo (OIDC Core §5.3)",
        responses=schemas.oauth_errors(401, 403),
    )
    async def userinfo(request: Request) -> Response:
        token_text = bearer_token(request.headers.get("authorization"))
        challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if token_text is None:
            return oauth_error(401, "invalid_token", "missing bearer token", challenge)
        try:
            claims = await run_in_threadpool(validator.validate, token_text)
        except InvalidAccessToken as exc:
            return oauth_error(401, "invalid_token", str(exc), challenge)
        decision = await rate_limiting.check(
            rate_limiter, str(claims["sub"]), str(claims.get("client_id", ""))
        )
        if not decision.allowed:
            return rate_limiting.too_many(decision)
        scopes = str(claims.get("scope", "")).split()
        if "openid" not in scopes:
            return oauth_error(403, "insufficient_scope", "the token lacks the openid scope")
        user = await run_in_threadpool(natural_keys.user_by_subject, str(claims["sub"]))
        if user is None:
            return oauth_error(401, "invalid_token", "the token's subject is not a user")
        info: dict[str, Any] = {"sub": user.subject}
        if "profile" in scopes:
            info |= {"name": user.name, "preferred_username": user.email}
        if "email" in scopes:
            info |= {"email": user.email, "email_verified": False}
        return JSONResponse(info, headers={**_NO_STORE, **rate_limiting.allowed_headers(decision)})

    @router.post(
        "/connect/deviceauthorization",
        summary="Device authorization (RFC 8628 §3.1)",
        responses=schemas.oauth_errors(400, 401, 413, 415),
        openapi_extra=schemas.form(schemas.DEVICE_AUTHORIZATION_FORM),
    )
    async def device_authorization(request: Request) -> JSONResponse:
        oauth_request = await _oauth_request(request, issuer)
        status, body, headers = await run_in_threadpool(
            server.create_endpoint_response, "device_authorization", oauth_request
        )
        return JSONResponse(body, status_code=status, headers={**dict(headers), **_NO_STORE})

    @router.post(
        "/connect/revocation",
        summary="Token revocation (RFC 7009)",
        responses=schemas.oauth_errors(400, 401, 413, 415),
        openapi_extra=schemas.form(schemas.TOKEN_REFERENCE_FORM, required=("token",)),
    )
    async def revocation(request: Request) -> JSONResponse:
        oauth_request = await _oauth_request(request, issuer)
        try:
            await run_in_threadpool(token_management.revoke, oauth_request)
        except OAuth2Error as exc:
            return oauth_error(exc.status_code, exc.error, exc.get_error_description() or exc.error)
        return JSONResponse({}, headers=_NO_STORE)

    @router.post(
        "/connect/introspect",
        summary="Token introspection (RFC 7662)",
        responses=schemas.oauth_errors(400, 401, 413, 415),
        openapi_extra=schemas.form(schemas.TOKEN_REFERENCE_FORM, required=("token",)),
    )
    async def introspect(request: Request) -> JSONResponse:
        oauth_request = await _oauth_request(request, issuer)
        try:
            body = await run_in_threadpool(token_management.introspect, oauth_request)
        except OAuth2Error as exc:
            return oauth_error(exc.status_code, exc.error, exc.get_error_description() or exc.error)
        return JSONResponse(body, headers=_NO_STORE)

    return router
