"""The identity endpoints as the OpenAPI document describes them.

They read their forms and query strings by hand (token_requests.py: OAuth's rules, not
FastAPI's), so these descriptions only tell clients, through /docs and /openapi.json, what
goes in and what comes out: forms, pages, and errors in OAuth's {"error", "error_description"}.
"""

from __future__ import annotations

from typing import Any

_STRING: dict[str, Any] = {"type": "string"}
_OAUTH_ERROR: dict[str, Any] = {
    "title": "OAuthError",
    "type": "object",
    "required": ["error"],
    "properties": {"error": _STRING, "error_description": _STRING},
}
_ERRORS = {
    400: "invalid_request (a parameter is missing, repeated or malformed) or a grant error",
    401: "The client, or the token, is not valid",
    403: "The token lacks the scope",
    413: "The form is larger than the endpoint accepts",
    415: "Parameters are sent as application/x-www-form-urlencoded",
}
_CLIENT = {"client_id": _STRING, "client_secret": _STRING}
_TOKEN = {"token": _STRING, "token_type_hint": _STRING, **_CLIENT}
_AUTHORIZE = {
    "response_type": _STRING,
    "client_id": _STRING,
    "redirect_uri": _STRING,
    "scope": _STRING,
    "state": _STRING,
    "nonce": _STRING,
    "response_mode": _STRING,
    "prompt": _STRING,
    "max_age": _STRING,
    "code_challenge": _STRING,
    "code_challenge_method": _STRING,
}

TOKEN_FORM = {
    "grant_type": {
        "type": "string",
        "enum": [
            "authorization_code",
            "refresh_token",
            "password",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
    },
    "code": _STRING,
    "redirect_uri": _STRING,
    "code_verifier": _STRING,
    "refresh_token": _STRING,
    "device_code": _STRING,
    "username": _STRING,
    "password": _STRING,
    "scope": _STRING,
    **_CLIENT,
}
DEVICE_AUTHORIZATION_FORM = {"scope": _STRING, **_CLIENT}
TOKEN_REFERENCE_FORM = _TOKEN
AUTHORIZE_FORM = {
    **_AUTHORIZE,
    "consent": {"type": "string", "enum": ["allow", "deny"]},
    "csrf": _STRING,
}
AUTHORIZE_QUERY = _AUTHORIZE
LOGIN_FORM = {"email": _STRING, "password": _STRING, "ReturnUrl": _STRING, "csrf": _STRING}
LOGIN_QUERY = {"ReturnUrl": _STRING}
END_SESSION_FIELDS = {
    "id_token_hint": _STRING,
    "post_logout_redirect_uri": _STRING,
    "state": _STRING,
}
DEVICE_QUERY = {"user_code": _STRING}
DEVICE_FORM = {
    "user_code": _STRING,
    "decision": {"type": "string", "enum": ["allow", "deny"]},
    "csrf": _STRING,
}


TOKENS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The tokens (RFC 6749 §5.1)",
        "content": {
            "application/json": {
                "schema": {
                    "title": "TokenResponse",
                    "type": "object",
                    "required": ["access_token", "token_type"],
                    "properties": {
                        "access_token": _STRING,
                        "token_type": _STRING,
                        "expires_in": {"type": "integer"},
                        "refresh_token": _STRING,
                        "id_token": _STRING,
                        "scope": _STRING,
                    },
                }
            }
        },
    }
}


def oauth_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` for the errors it can answer, in OAuth's format."""
    return {status: _json(_ERRORS[status], _OAUTH_ERROR) for status in statuses}


def pages(
    described: dict[int, str], errors: tuple[int, ...] = ()
) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` for the pages it answers (a 302 has no body) and its OAuth-format
    errors; a status that can be either (a 400) lists both content types."""
    responses = oauth_errors(*errors)
    for status, description in described.items():
        if status in (301, 302, 303):
            responses[status] = {"description": description}
            continue
        page = {"text/html": {"schema": _STRING}}
        if status in responses:
            responses[status]["content"] |= page
            responses[status]["description"] = f"{description}; or {_ERRORS[status]}"
        else:
            responses[status] = {"description": description, "content": page}
    return responses


def form(fields: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A route's `openapi_extra` naming the URL-encoded form it reads by hand."""
    schema: dict[str, Any] = {"type": "object", "properties": fields}
    if required:
        schema["required"] = list(required)
    return {
        "requestBody": {
            "required": bool(required),
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


def query(fields: dict[str, Any]) -> dict[str, Any]:
    """A route's `openapi_extra` naming the optional query parameters it reads by hand."""
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in fields.items()
        ]
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
