"""JsonBody: the credential checked first, then the body, in one dependency (issue 10)."""

# No `from __future__ import annotations`: FastAPI reads the route's annotations, which
# name a dependency declared inside the app factory.

import asyncio
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.json_body import JsonBody, Sent
from domain.principals.permissions import Principal

WRITER = Principal("w1", "api_token", frozenset({"things:create"}))


class Thing(BaseModel):
    name: str


async def credential(request: Request) -> Principal:
    if request.headers.get("authorization") != "Bearer good":
        raise HTTPException(401, "who are you")
    return WRITER


def app_with_one_write() -> FastAPI:
    app = FastAPI()
    thing = JsonBody(Thing, credential)

    @app.post("/things", openapi_extra=thing.openapi)
    async def create(sent: Annotated[Sent[Thing], Depends(thing.dependency())]) -> dict[str, str]:
        body, principal = sent
        return {"name": body.name, "by": principal.id}

    return app


def post(app: FastAPI, **request: object) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/things", **request)  # type: ignore[arg-type]

    return asyncio.run(send())


def test_the_route_solves_one_dependency_for_credential_and_body() -> None:
    (route,) = [r for r in app_with_one_write().routes if isinstance(r, APIRoute)]
    (dependency,) = route.dependant.dependencies
    assert dependency.dependencies == []


def test_a_malformed_body_from_nobody_is_refused_for_who_sent_it() -> None:
    response = post(
        app_with_one_write(), content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 401


def test_a_known_client_gets_its_body_and_itself() -> None:
    app = app_with_one_write()
    good = {"authorization": "Bearer good"}
    assert post(app, json={"name": "x"}, headers=good).json() == {"name": "x", "by": "w1"}
    invalid = post(app, content=b"{not json", headers={**good, "content-type": "application/json"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"][0] == "body"
