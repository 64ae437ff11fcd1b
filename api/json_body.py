"""A JSON request body read only after the credential check: nobody unknown makes us parse.

FastAPI reads and validates a declared body before it runs a route's dependencies, so an
anonymous client could have its body parsed before it is refused. Routes that need a
credential declare their body through `JsonBody` instead: one dependency that checks the
credential, then reads the body, and hands the route both (`Sent`). One dependency rather
than two (a principal, and a body depending on it) because FastAPI's dependency solving is
a large share of a write's time on the event loop. Errors keep FastAPI's shape
(RequestValidationError, locations under "body"), so each surface answers them as before.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Generic, NamedTuple, TypeVar

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from domain.principals.permissions import Principal

M = TypeVar("M", bound=BaseModel)
Credential = Callable[[Request], Coroutine[Any, Any, Principal]]


class Sent(NamedTuple, Generic[M]):
    """What an authenticated client sent: its validated body, and who it is."""

    body: M
    principal: Principal


class JsonBody(Generic[M]):
    def __init__(self, model: type[M], credential: Credential) -> None:
        self._model = model
        self._credential = credential
        self.openapi: dict[str, Any] = {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": model.model_json_schema()}},
            }
        }

    def dependency(self) -> Callable[[Request], Coroutine[Any, Any, Sent[M]]]:
        credential = self._credential

        async def read(request: Request) -> Sent[M]:
            principal = await credential(request)
            body = self.parse(request.headers.get("content-type"), await request.body())
            return Sent(body, principal)

        return read

    def parse(self, content_type: str | None, raw: bytes) -> M:
        if not raw:
            raise _invalid([{"type": "missing", "loc": (), "msg": "Field required"}])
        if not _is_json(content_type):
            raise _invalid([_NOT_AN_OBJECT])
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise _invalid(
                [{"type": "json_invalid", "loc": (exc.pos,), "msg": "JSON decode error"}]
            ) from None
        if not isinstance(data, dict):
            raise _invalid([_NOT_AN_OBJECT])
        try:
            return self._model.model_validate(data)
        except ValidationError as exc:
            raise _invalid(exc.errors(include_url=False, include_input=False)) from None


_NOT_AN_OBJECT = {
    "type": "model_attributes_type",
    "loc": (),
    "msg": "Input should be a valid dictionary or object to extract fields from",
}


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _invalid(errors: Any) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])
