"""The SENZ RestAPI's bodies as the OpenAPI document describes them.

Requests are parsed by hand in routes.py (SENZ's content types and error messages); these
models only tell integrators, through /docs and /openapi.json, what goes in and comes out.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Account(BaseModel):
    userName: str
    temperatureScale: str = Field(description="Celsius or Fahrenheit")
    language: str = Field(description="A language tag: en, nb, en-GB")


class Thermostat(BaseModel):
    serialNumber: str
    name: str
    currentTemperature: int = Field(description="Hundredths of °C")
    setPointTemperature: int = Field(description="Hundredths of °C")
    online: bool
    isHeating: bool
    mode: int = Field(description="1 Auto, 2 Hold, 3 Manual, 4 Holiday, 5 Off")
    holdUntil: str | None = Field(description="UTC, ISO 8601")
    errorState: str | None


class ModeChange(BaseModel):
    serialNumber: str
    temperature: int | None = Field(
        default=None, description="Hundredths of °C; manual and hold only"
    )
    temperatureType: int = Field(default=0, description="0 absolute, 1 relative to the set point")
    holdUntil: str | None = Field(
        default=None, description="Hold only: ISO 8601 within 23 hours; default 2 hours"
    )


class ScheduleEntry(BaseModel):
    day: str = Field(description="Monday … Sunday")
    time: str = Field(description="HH:mm, 24-hour, UTC")
    temperature: int = Field(description="Hundredths of °C, from this time on")


class Schedule(BaseModel):
    entries: list[ScheduleEntry]


class Messages(BaseModel):
    messages: list[str]


_ERRORS = {
    400: "The request is not valid",
    401: "No valid access token",
    403: "The token lacks the restapi scope",
    404: "No such thermostat, or not the caller's",
    413: "The request body is larger than the RestAPI accepts",
    415: "Only application/json (or application/*+json)",
    429: "Burst or rate limit reached (a plain-text quota message)",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Error responses for a route's `responses`: SENZ's {"messages": [...]}, except 429,
    which answers with AspNetCoreRateLimit's plain-text quota sentence."""
    described: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        if status == 429:
            described[status] = {
                "description": _ERRORS[status],
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        else:
            described[status] = {"model": Messages, "description": _ERRORS[status]}
    return described


def body(model: type[BaseModel]) -> dict[str, Any]:
    """A route's `openapi_extra` naming the JSON body it reads by hand."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)  # nested models are in components already (response models)
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }
