"""Administration of SENZ thermostats: register one to its owner."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies declared inside the router factory.

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import RequestAuthenticator
from api.json_body import JsonBody, Sent
from api.problem import Problem, problem_responses
from domain.thermostats.commands import RegisterThermostat
from infra.command_bus import CommandBus
from infra.request_context import command_context
from infra.store.natural_keys import NaturalKeys


class NewThermostat(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    serial_number: str = Field(alias="serialNumber", min_length=1, max_length=32)
    owner_email: str = Field(alias="ownerEmail", max_length=254)
    name: str = Field(default="", max_length=200)


def thermostat_admin_router(
    bus: CommandBus, natural_keys: NaturalKeys, auth: RequestAuthenticator
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/admin/thermostats", tags=["Users"])
    new_thermostat = JsonBody(NewThermostat, auth.require("thermostats:create"))

    @router.post(
        "",
        status_code=201,
        summary="Register a thermostat to its owner",
        responses=problem_responses(400, 401, 403, 413),
        openapi_extra=new_thermostat.openapi,
    )
    async def register_thermostat(
        request: Request,
        sent: Annotated[Sent[NewThermostat], Depends(new_thermostat.dependency())],
    ) -> dict[str, str]:
        body, principal = sent
        owner = await run_in_threadpool(natural_keys.user_by_email, body.owner_email)
        if owner is None:
            raise Problem(400, f"no user {body.owner_email}")
        await bus.execute(
            RegisterThermostat(
                serial_number=body.serial_number,
                owner=owner.subject,
                name=body.name,
                context=command_context(request, principal),
            )
        )
        return {"serialNumber": body.serial_number.strip().upper(), "owner": owner.subject}

    return router
