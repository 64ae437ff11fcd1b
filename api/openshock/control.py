"""OpenShock control: POST /2/shockers/control and the deprecated /1/shockers/control.

The real API's order: the token's shockers.use (before the body is read), the body's
validation (400 Validation.Error), a paused token (403 ApiToken.Paused), then per distinct
shocker in order: not found or not the caller's nor shared with them (404), paused (412),
type not allowed by the share (403). The first refusal sends nothing. The domain decides
all but the first two steps' shape checks (domain/openshock/control_handlers.py); each item
sent becomes one `ShockerCommand.Sent` event, which the hub gateway delivers and the control
logs are made of.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from api.openshock import responses, schemas
from api.openshock.auth import OpenShockAuth, context
from api.openshock.bodies import Fields, json_body
from domain.openshock.commands import ControlItem, ControlShockers
from domain.openshock.errors import invalid
from domain.openshock.values import Caller, Permission
from infra.command_bus import CommandBus

SENT = "Successfully sent control messages"


def control_items(shocks: Any, path: str) -> tuple[ControlItem, ...]:
    """The items' shapes (a GUID, numbers, a boolean); their ranges and type names are the
    domain's to check, so that every range error of a request is named at once."""
    if not isinstance(shocks, list):
        raise invalid(path, "must be an array of control items")
    items = []
    for index, shock in enumerate(shocks):
        item = Fields(shock, f"{path}[{index}]")
        items.append(
            ControlItem(
                shocker_id=item.guid("id"),
                type=item.enum("type"),
                intensity=item.integer("intensity"),
                duration=item.integer("duration"),
                exclusive=item.boolean("exclusive", default=False),
            )
        )
        item.check()
    return tuple(items)


def control_router(bus: CommandBus, auth: OpenShockAuth) -> APIRouter:
    router = APIRouter(tags=["OpenShock control"])
    User = Annotated[Caller, Depends(auth.caller)]

    async def _send(
        request: Request, caller: Caller, items: tuple[ControlItem, ...], custom_name: str | None
    ) -> Response:
        await bus.execute(
            ControlShockers(
                caller=caller, items=items, custom_name=custom_name, context=context(request)
            )
        )
        return responses.legacy(None, SENT)

    @router.post(
        "/2/shockers/control",
        summary="Control shockers: shock, vibrate, sound or stop, each item one log row",
        openapi_extra=schemas.body(schemas.CONTROL_V2),
    )
    async def control(request: Request, caller: User) -> Response:
        caller.require(Permission.SHOCKERS_USE)
        body = Fields(await json_body(request))
        shocks = body.get("shocks")
        custom_name = body.optional_text("customName")
        body.check()
        return await _send(request, caller, control_items(shocks, "shocks"), custom_name)

    @router.post(
        "/1/shockers/control",
        summary="Deprecated: the body is the bare array of control items (no custom name)",
        openapi_extra=schemas.body(schemas.CONTROL_V1),
        deprecated=True,
    )
    async def control_v1(request: Request, caller: User) -> Response:
        caller.require(Permission.SHOCKERS_USE)
        return await _send(request, caller, control_items(await json_body(request), "$"), None)

    return router
