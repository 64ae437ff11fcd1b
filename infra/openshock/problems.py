"""The body of an OpenShock problem (RFC 7807 as the real backend writes it), shared by the
REST error mapper (api/openshock/errors.py) and the websockets' refusals before an upgrade.

`{type, title, status, detail, requestId, message, traceId}` plus the problem's extensions;
`message` (detail, else title) and `traceId` (= requestId) are deprecated there but still
written, and older clients read them.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.requests import HTTPConnection

PROBLEM_JSON = "application/problem+json"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


def problem_body(
    type_: str,
    title: str,
    status: int,
    request_id: str,
    detail: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "requestId": request_id,
        **(extensions or {}),
        "message": detail or title,
        "traceId": request_id,
    }


def request_id_of(connection: HTTPConnection) -> str:
    """The id a problem names its request by: the client's X-Request-Id when it is a plain
    token, else one drawn once per request (the same on every problem of the request)."""
    state = connection.state
    found = getattr(state, "openshock_request_id", None)
    if isinstance(found, str):
        return found
    presented = connection.headers.get("x-request-id")
    request_id = (
        presented
        if presented is not None and _REQUEST_ID.match(presented)
        else secrets.token_hex(8)
    )
    state.openshock_request_id = request_id
    return request_id
