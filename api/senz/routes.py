"""SENZ's RestAPI v1 (seeds/senz-restapi.md): Account, Thermostat, Mode."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.problem import Problem
from api.senz import schemas
from api.senz.caller import Caller, SenzCallers
from domain.identity.user import User
from domain.principals.permissions import Principal
from domain.thermostats.commands import SetMode, SetSchedule
from domain.thermostats.thermostat import Mode
from infra.command_bus import CommandBus
from infra.request_context import command_context
from infra.store.natural_keys import NaturalKeys
from infra.store.view_reader import ViewReader
from projections.thermostat_view import ThermostatRow, thermostat_of, thermostats_of

_MODES = {"auto": Mode.AUTO, "manual": Mode.MANUAL, "hold": Mode.HOLD, "off": Mode.OFF}
_VIEW = "thermostats"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])
# Documented as an enum (so fuzzers reach the body rules); read case-insensitively, any
# other word is SENZ's 404.
ModeName = Annotated[str, Path(json_schema_extra={"enum": list(_MODES)})]


def _thermostat(row: ThermostatRow) -> dict[str, Any]:
    return {
        "serialNumber": row.serial_number,
        "name": row.name,
        "currentTemperature": row.current_temperature,
        "setPointTemperature": row.set_point,
        "online": row.online,
        "isHeating": row.is_heating,
        "mode": row.mode,
        "holdUntil": row.hold_until,
        "errorState": row.error_state,
    }


async def _json_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # SENZ takes JSON only; older integrations send application/json-patch+json.
    if not (
        content_type == "application/json"
        or (content_type.startswith("application/") and content_type.endswith("+json"))
    ):
        raise Problem(415, "The RestAPI only accepts application/json.")
    # Bounded while read (api/body_limit.py): a larger body is a 413 before it is held.
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Problem(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Problem(400, "The request body must be a JSON object.")
    return body


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Problem(400, f"{name} is required and must be a string.")
    return value.strip().upper()


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise Problem(400, f"{name} must be a whole number.")
    return int(value)


def _optional_time(body: dict[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Problem(400, f"{name} must be an ISO-8601 date and time.")
    try:
        # Fractional seconds (pysenz sends six digits), Z or an offset; answered in UTC.
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(
            400, f"{name} must be an ISO-8601 date and time, e.g. 2026-01-02T09:12:48Z."
        ) from None
    if moment.tzinfo is None:
        raise Problem(400, f"{name} must say its time zone (Z or an offset).")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # 9999-12-31T23:59:59-01:00 is a valid timestamp that no UTC date can hold.
        raise Problem(400, f"{name} is outside the range of dates.") from None


def senz_router(
    bus: CommandBus, views: ViewReader, natural_keys: NaturalKeys, callers: SenzCallers
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["SENZ"])
    Senz = Annotated[Caller, Depends(callers.caller)]

    @router.get(
        "/Account",
        summary="The caller's account",
        response_model=schemas.Account,
        responses=schemas.errors(401, 403, 429),
    )
    async def account(request: Request, caller: Senz) -> JSONResponse:
        user = await _user(caller)
        body = {
            "userName": user.email,
            "temperatureScale": user.temperature_scale,
            "language": user.language,
        }
        return JSONResponse(body, headers=caller.rate_headers)

    @router.get(
        "/Thermostat",
        summary="The caller's thermostats",
        response_model=list[schemas.Thermostat],
        responses=schemas.errors(401, 403, 429),
    )
    async def thermostats(request: Request, caller: Senz) -> JSONResponse:
        await views.fresh_views(_VIEW)
        rows = await views.query(thermostats_of, caller.user)
        return JSONResponse([_thermostat(r) for r in rows], headers=caller.rate_headers)

    @router.get(
        "/Thermostat/{serialNumber}",
        summary="One of the caller's thermostats",
        response_model=schemas.Thermostat,
        responses=schemas.errors(401, 403, 404, 429),
    )
    async def thermostat(request: Request, serialNumber: str, caller: Senz) -> JSONResponse:
        await views.fresh_views(_VIEW)
        row = await views.query(thermostat_of, caller.user, serialNumber)
        if row is None:
            raise Problem(404, f"Thermostat {serialNumber} was not found.")
        return JSONResponse(_thermostat(row), headers=caller.rate_headers)

    def _command(path: str, summary: str, body: type[BaseModel]) -> Callable[[Endpoint], Endpoint]:
        """A PUT that reads its JSON body by hand (SENZ's rules) and answers 204."""
        return router.put(
            path,
            status_code=204,
            summary=summary,
            responses=schemas.errors(400, 401, 403, 404, 413, 415, 429),
            openapi_extra=schemas.body(body),
        )

    @_command(
        "/Mode/{mode}", "Set a thermostat's mode: auto, manual, hold or off", schemas.ModeChange
    )
    async def set_mode(request: Request, mode: ModeName) -> Response:
        # The caller is resolved here, first, rather than as a dependency: the busiest SENZ
        # write skips FastAPI's solving of a dependency (~10 us on the event loop).
        caller = await callers.caller(request)
        chosen = _MODES.get(mode.lower())
        if chosen is None:
            raise Problem(404, f"There is no mode {mode}; use auto, manual, hold or off.")
        body = await _json_body(request)
        command = SetMode(
            serial_number=_text(body, "serialNumber"),
            user=caller.user,
            mode=chosen,
            temperature=_optional_int(body, "temperature"),
            temperature_type=_optional_int(body, "temperatureType") or 0,
            hold_until=_optional_time(body, "holdUntil"),
            now=datetime.now(UTC),
            context=command_context(request, Principal(caller.user, "user", frozenset())),
        )
        await bus.execute(command)
        return Response(status_code=204, headers=caller.rate_headers)

    async def _user(caller: Caller) -> User:
        user = await run_in_threadpool(natural_keys.user_by_subject, caller.user)
        if user is None:
            raise Problem(404, "The account was not found.")
        return user

    @router.get(
        "/Thermostat/{serialNumber}/Schedule",
        summary="The weekly schedule Auto follows",
        response_model=schemas.Schedule,
        responses=schemas.errors(401, 403, 404, 429),
    )
    async def schedule(request: Request, serialNumber: str, caller: Senz) -> JSONResponse:
        thermostat = await run_in_threadpool(natural_keys.thermostat, serialNumber.upper())
        if thermostat is None or thermostat.owner != caller.user:
            raise Problem(404, f"Thermostat {serialNumber} was not found.")
        return JSONResponse({"entries": thermostat.schedule}, headers=caller.rate_headers)

    @_command("/Thermostat/{serialNumber}/Schedule", "Set the weekly schedule", schemas.Schedule)
    async def set_schedule(request: Request, serialNumber: str) -> Response:
        caller = await callers.caller(request)
        body = await _json_body(request)
        await bus.execute(
            SetSchedule(
                serial_number=serialNumber.upper(),
                user=caller.user,
                entries=body.get("entries"),
                now=datetime.now(UTC),
                context=command_context(request, Principal(caller.user, "user", frozenset())),
            )
        )
        return Response(status_code=204, headers=caller.rate_headers)

    return router
