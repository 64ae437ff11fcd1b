"""Reading OAuth form posts: URL-encoded only, small, each parameter at most once."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

from api.problem import Problem

MAX_FORM_BYTES = 16 * 1024


async def read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise Problem(415, "send parameters as application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise Problem(413, f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "the form is not valid URL-encoded UTF-8") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            # RFC 6749 §3.1: request parameters MUST NOT be included more than once.
            raise Problem(400, f"the parameter {key} is given more than once")
        form[key] = value
    return form
