"""The OpenAPI description of the OpenShock bodies read by hand (api/openshock/bodies.py), so
that the documentation and the fuzzers know them."""

from __future__ import annotations

from typing import Any

GUID: dict[str, Any] = {"type": "string", "format": "uuid"}
NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
MODEL: dict[str, Any] = {
    "type": "string",
    "enum": ["CaiXianlin", "PetTrainer", "Petrainer998DR", "WellturnT330"],
}
CONTROL_TYPE: dict[str, Any] = {"type": "string", "enum": ["Stop", "Shock", "Vibrate", "Sound"]}


def obj(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


HUB_NAME = obj(["name"], name=NAME)
PERMISSIONS = obj(
    ["vibrate", "sound", "shock"],
    vibrate={"type": "boolean"},
    sound={"type": "boolean"},
    shock={"type": "boolean"},
    live={"type": "boolean", "default": False},
)
LIMITS = obj(
    [],
    intensity={"type": ["integer", "null"], "minimum": 0, "maximum": 100},
    duration={"type": ["integer", "null"], "minimum": 300, "maximum": 65535},
)
PAUSE = obj(["pause"], pause={"type": "boolean"})
SHOCKER = obj(
    ["name", "rfId", "device", "model"],
    name=NAME,
    rfId={"type": "integer", "minimum": 0, "maximum": 65535},
    device=GUID,
    model=MODEL,
)
CONTROL_ITEM = obj(
    ["id", "type", "intensity", "duration"],
    id=GUID,
    type=CONTROL_TYPE,
    intensity={"type": "integer", "minimum": 0, "maximum": 100},
    duration={"type": "integer", "minimum": 300, "maximum": 65535},
    exclusive={"type": "boolean", "default": False},
)
CONTROL_V2 = obj(
    ["shocks"],
    shocks={"type": "array", "items": CONTROL_ITEM},
    customName={"type": ["string", "null"], "maxLength": 64},
)
CONTROL_V1: dict[str, Any] = {"type": "array", "items": CONTROL_ITEM}


def body(schema: dict[str, Any]) -> dict[str, Any]:
    """A route's `openapi_extra` naming the JSON body it reads."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
