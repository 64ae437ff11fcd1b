"""/api/v1/deviceauth: the device access list (seeds/deviceauth-module.md)."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from api.auth import RequestAuthenticator
from api.deviceauth.models import DeviceAuthEntry, DeviceAuthInformation, SetPublicKeyBody
from api.deviceauth.upload import read_upload
from api.json_body import JsonBody
from api.problem import Problem
from domain.deviceauth.access_list_csv import AccessListRejected, parse_access_list
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

    @router.post(
        "",
        status_code=204,
        summary="Upload CSV device access list",
        description=(
            "One row per device: `deviceIdentifier;base64(PEM public key)` (semicolon or comma),"
            " optional header row. All or nothing: a malformed row rejects the whole upload."
        ),
        responses={
            400: {"description": "A malformed row; the errors name the lines, nothing was applied"},
            413: {"description": "The upload is larger than the configured limit"},
        },
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
        data = await read_upload(request, max_upload_bytes)
        try:
            rows = parse_access_list(data)
        except AccessListRejected as exc:
            raise Problem(
                400,
                f"the access list was rejected, nothing was applied: {exc}",
                errors=[{"line": e.line, "message": e.message} for e in exc.errors],
            ) from exc
        await bus.execute(
            UploadAccessList(
                rows=tuple((row.device_identifier, row.public_key) for row in rows),
                context=command_context(request, principal),
            )
        )
        return Response(status_code=204)

    @router.get(
        "",
        summary="Get device access list",
        response_model=list[DeviceAuthEntry],
        response_model_exclude_none=True,
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

    @router.delete("", status_code=204, summary="Clear device access list")
    async def clear_access_list(request: Request, principal: Deleter) -> Response:
        await views.fresh_views(_VIEW)
        rows = await views.query(list_devices)
        identifiers = tuple(
            r.device_identifier for r in rows if r.public_key is not None or not r.unknown
        )
        await bus.execute(
            ClearAllPublicKeys(
                device_identifiers=identifiers, context=command_context(request, principal)
            )
        )
        return Response(status_code=204)

    @router.post(
        "/{deviceIdentifier}",
        status_code=204,
        summary="Set single device access",
        openapi_extra=public_key_body.openapi,
    )
    async def set_device_access(
        request: Request,
        deviceIdentifier: str,
        body: Annotated[SetPublicKeyBody, Depends(public_key_body.dependency())],
        principal: Updater,
    ) -> Response:
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

    @router.delete("/{deviceIdentifier}", status_code=204, summary="Clear single device access")
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
