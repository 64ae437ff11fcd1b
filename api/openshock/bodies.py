"""Reading OpenShock request bodies as the real API's JSON reader does.

Property names are matched case-insensitively; enums are left to the domain (a name in any
case, or the number); numbers must be JSON numbers (no "5"), whole where the field is an
integer. Whatever is wrong is a 400 Validation.Error naming the JSON path, as
System.Text.Json and ASP.NET's model validation name it (`$` for the body itself).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from fastapi import Request

from domain.openshock.errors import InvalidRequest, invalid
from domain.openshock.values import ShareLimits, SharePermissions

_MISSING = object()


async def json_body(request: Request) -> Any:
    """The parsed body. The size was bounded while it was read (api/body_limit.py)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if not raw:
        raise invalid("$", "A non-empty request body is required.")
    if not (
        media == "application/json"
        or (media.startswith("application/") and media.endswith("+json"))
    ):
        raise invalid("$", "The body must be JSON (Content-Type: application/json).")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid("$", f"The JSON value could not be read (at byte {exc.pos}).") from None


class Fields:
    """A JSON object's members by lower-cased name, read with the path they are at."""

    def __init__(
        self, value: Any, path: str = "$", errors: dict[str, list[str]] | None = None
    ) -> None:
        # A nested object's problems are collected with its parent's (`errors` shared).
        self._errors: dict[str, list[str]] = {} if errors is None else errors
        self._path = path
        self._members: dict[str, Any] = {}
        if isinstance(value, dict):
            self._members = {str(k).lower(): v for k, v in value.items()}
        elif errors is None:
            raise invalid(path, "must be a JSON object")
        else:
            self._errors.setdefault(path, []).append("is required and must be a JSON object")

    def path(self, name: str) -> str:
        return name if self._path == "$" else f"{self._path}.{name}"

    def get(self, name: str) -> Any:
        return self._members.get(name.lower(), _MISSING)

    def fail(self, name: str, message: str) -> None:
        self._errors.setdefault(self.path(name), []).append(message)

    def check(self) -> None:
        """Raises every problem found so far, at once, as the real API lists them."""
        if self._errors:
            first = next(iter(self._errors))
            raise InvalidRequest(f"{first}: {self._errors[first][0]}", errors=self._errors)

    def text(self, name: str, default: str | None = None) -> str:
        value = self.get(name)
        if value is _MISSING and default is not None:
            return default
        if not isinstance(value, str):
            self.fail(name, "is required and must be a string")
            return ""
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.get(name)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, str):
            self.fail(name, "must be a string or null")
            return None
        return value

    def integer(self, name: str, default: int | None = None) -> int:
        value = self.get(name)
        if value is _MISSING and default is not None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, "is required and must be a whole number")
            return 0
        return value

    def boolean(self, name: str, default: bool | None = None) -> bool:
        value = self.get(name)
        if value is _MISSING and default is not None:
            return default
        if not isinstance(value, bool):
            self.fail(name, "is required and must be true or false")
            return False
        return value

    def guid(self, name: str) -> UUID:
        value = self.get(name)
        found = guid_or_none(value)
        if found is None:
            self.fail(name, "is required and must be a GUID")
            return UUID(int=0)
        return found

    def optional_integer(self, name: str) -> int | None:
        value = self.get(name)
        if value is _MISSING or value is None:
            return None
        return self.integer(name)

    def optional_time(self, name: str) -> datetime | None:
        """A date and time; without a zone it is UTC, as the real API reads it."""
        value = self.get(name)
        if value is _MISSING or value is None:
            return None
        moment = None
        if isinstance(value, str) and len(value) <= 64:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                moment = None
        if moment is None:
            self.fail(name, "must be an ISO-8601 date and time or null")
            return None
        try:
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except OverflowError:
            self.fail(name, "is outside the range of dates")
            return None

    def optional_guid(self, name: str) -> UUID | None:
        value = self.get(name)
        if value is _MISSING or value is None:
            return None
        found = guid_or_none(value)
        if found is None:
            self.fail(name, "must be a GUID or null")
        return found

    def items(self, name: str) -> list[Fields]:
        """An array of objects, each read with its path; problems join this object's."""
        value = self.get(name)
        if not isinstance(value, list):
            self.fail(name, "is required and must be an array")
            return []
        return [Fields(v, f"{self.path(name)}[{i}]", self._errors) for i, v in enumerate(value)]

    def rights(self) -> tuple[SharePermissions, ShareLimits]:
        """A share's `permissions` {vibrate, sound, shock, live = false} and `limits`
        {intensity, duration}, null meaning no cap (their ranges are the domain's to check)."""
        permissions = Fields(self.get("permissions"), self.path("permissions"), self._errors)
        limits = Fields(self.get("limits"), self.path("limits"), self._errors)
        return (
            SharePermissions(
                vibrate=permissions.boolean("vibrate"),
                sound=permissions.boolean("sound"),
                shock=permissions.boolean("shock"),
                live=permissions.boolean("live", default=False),
            ),
            ShareLimits(
                intensity=limits.optional_integer("intensity"),
                duration=limits.optional_integer("duration"),
            ),
        )

    def enum(self, name: str) -> str | int:
        """A name or a number; which names are known is the domain's to say."""
        value = self.get(name)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.fail(name, "is required and must be a name or a number")
            return ""
        return value


def guid_or_none(value: Any) -> UUID | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return UUID(value)
    except ValueError:
        return None
