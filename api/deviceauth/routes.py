"""/api/v1/deviceauth: the device access list (seeds/deviceauth-module.md)."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

import asyncio
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from api.auth import RequestAuthenticator
from api.deviceauth.models import DeviceAuthEntry, DeviceAuthInformation, SetPublicKeyBody
from api.deviceauth.upload import checked_upload
from api.json_body import JsonBody
from api.problem import Problem, problem_responses
from domain.commands import Command
from domain.deviceauth.access_list_csv import AccessListRejected
from domain.deviceauth.commands import (
    ClearAllPublicKeys,
    ClearDevicePublicKey,
    SetDevicePublicKey,
    UploadAccessList,
)
from domain.deviceauth.identifiers import normalise_device_identifier
from domain.principals.permissions import Principal
from infra.command_bus import CommandBus
from infra.request_context import command_context
from infra.store.view_reader import ViewReader
from projections.device_access_view import DeviceAccessRow, get_device, list_devices

Depth = Annotated[
    int, Query(ge=0, le=10, description="0: identifiers only; 1 or more: with information")
]

_VIEW = "device_access"
# Rows per transaction of a large upload or clear: small enough that other writers and
# the views never wait long behind one, large enough to share the fsync.
BATCH_ROWS = 1000


def _identifier(raw: str) -> str:
    try:
        return normalise_device_identifier(raw)
    except ValueError as exc:
        raise Problem(400, str(exc)) from exc


def _information(row: DeviceAccessRow) -> DeviceAuthInformation:
    return DeviceAuthInformation(publicKey=row.public_key, unknown=row.unknown)


_CSV_SCHEMA = {"type": "string", "example": "809212389122821;<base64 of the PEM public key>"}


def deviceauth_router(
    bus: CommandBus, views: ViewReader, auth: RequestAuthenticator, max_upload_bytes: int
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/deviceauth", tags=["DeviceAuth"])
    Reader = Annotated[Principal, Depends(auth.require("deviceAuth:read"))]
    Updater = Annotated[Principal, Depends(auth.require("deviceAuth:update"))]
    Deleter = Annotated[Principal, Depends(auth.require("deviceAuth:delete"))]
    public_key_body = JsonBody(SetPublicKeyBody, auth.require("deviceAuth:update"))
    read_public_key = public_key_body.dependency()
    # One long write at a time on this node, so that two lists do not interleave by batch.
    long_write = asyncio.Lock()

    async def execute_in_batches(commands: Iterable[Command]) -> None:
        async with long_write:
            trailing = 0
            for command in commands:
                await bus.execute(command)
                # The views trail by one batch at most, so readers are not kept waiting.
                await views.keep_pace(trailing)
                trailing = await views.log_head()

    @router.post(
        "",
        status_code=204,
        summary="Upload CSV device access list",
        description=(
            "One row per device: `deviceIdentifier;base64(PEM public key)` (semicolon or comma),"
            " optional header row. Checked whole before anything is applied: a malformed row"
            " rejects the whole upload. Applied in transactions of 1,000 rows and answered"
            " once all are stored; if applying stops midway (an answer other than 204 after"
            " the file was accepted), sending the same file again completes it."
        ),
        responses=problem_responses(
            400,
            401,
            403,
            413,
            described={
                400: "A malformed row; the errors name the lines, nothing was applied",
                413: "The upload is larger than the configured limit",
            },
        ),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {"schema": _CSV_SCHEMA},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    },
                },
            }
        },
    )
    async def upload_access_list(request: Request, principal: Updater) -> Response:
        context = command_context(request, principal)
        try:
            async with checked_upload(request, max_upload_bytes) as checked:
                await execute_in_batches(
                    UploadAccessList(rows=rows, context=context)
                    for rows in checked.batches(BATCH_ROWS)
                )
        except AccessListRejected as exc:
            raise Problem(
                400,
                f"the access list was rejected, nothing was applied: {exc}",
                errors=[{"line": e.line, "message": e.message} for e in exc.errors],
            ) from exc
        return Response(status_code=204)

    @router.get(
        "",
        summary="Get device access list",
        response_model=list[DeviceAuthEntry],
        response_model_exclude_none=True,
        responses=problem_responses(400, 401, 403),
    )
    async def get_access_list(
        request: Request, principal: Reader, depth: Depth = 0
    ) -> JSONResponse:
        await views.fresh_views(_VIEW)
        rows = await views.query(list_devices)
        entries = [
            DeviceAuthEntry(
                deviceIdentifier=row.device_identifier,
                information=_information(row) if depth >= 1 else None,
            ).model_dump(by_alias=True, exclude_none=True)
            for row in rows
        ]
        return JSONResponse(entries)

    @router.delete(
        "",
        status_code=204,
        summary="Clear device access list",
        responses=problem_responses(401, 403),
    )
    async def clear_access_list(request: Request, principal: Deleter) -> Response:
        await views.fresh_views(_VIEW)
        rows = await views.query(list_devices)
        identifiers = tuple(
            r.device_identifier for r in rows if r.public_key is not None or not r.unknown
        )
        context = command_context(request, principal)
        await execute_in_batches(
            ClearAllPublicKeys(
                device_identifiers=identifiers[start : start + BATCH_ROWS], context=context
            )
            for start in range(0, len(identifiers), BATCH_ROWS)
        )
        return Response(status_code=204)

    @router.post(
        "/{deviceIdentifier}",
        status_code=204,
        summary="Set single device access",
        responses=problem_responses(400, 401, 403, 413),
        openapi_extra=public_key_body.openapi,
    )
    async def set_device_access(request: Request, deviceIdentifier: str) -> Response:
        # Read here rather than declared as a dependency: the busiest write skips FastAPI's
        # solving of a dependency (~10 us on the event loop); the credential is still checked
        # before the body is read and before the identifier (401 before 400, as before).
        body, principal = await read_public_key(request)
        await bus.execute(
            SetDevicePublicKey(
                device_identifier=_identifier(deviceIdentifier),
                public_key=body.public_key,
                context=command_context(request, principal),
            )
        )
        return Response(status_code=204)

    @router.get(
        "/{deviceIdentifier}",
        summary="Get single device access",
        response_model=DeviceAuthInformation,
        response_model_exclude_none=True,
        responses=problem_responses(400, 401, 403, 404),
    )
    async def get_device_access(
        request: Request, deviceIdentifier: str, principal: Reader
    ) -> JSONResponse:
        identifier = _identifier(deviceIdentifier)
        await views.fresh_views(_VIEW)
        row = await views.query(get_device, identifier)
        if row is None:
            raise Problem(404, f"no device {identifier} in the access list")
        return JSONResponse(_information(row).model_dump(by_alias=True, exclude_none=True))

    @router.delete(
        "/{deviceIdentifier}",
        status_code=204,
        summary="Clear single device access",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def clear_device_access(
        request: Request, deviceIdentifier: str, principal: Deleter
    ) -> Response:
        identifier = _identifier(deviceIdentifier)
        await views.fresh_views(_VIEW)
        if await views.query(get_device, identifier) is None:
            raise Problem(404, f"no device {identifier} in the access list")
        await bus.execute(
            ClearDevicePublicKey(
                device_identifier=identifier, context=command_context(request, principal)
            )
        )
        return Response(status_code=204)

    return router
