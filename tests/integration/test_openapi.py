"""The OpenAPI document: unique operation ids, and SENZ's bodies described as SENZ sends them."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from infra.root.app import create_app
from infra.root.services import Services
from tests.integration.running import settings_for


def test_the_openapi_document_describes_senz_and_has_unique_operation_ids(
    tmp_path: Path,
) -> None:
    hub = Services(settings_for({"data_dir": str(tmp_path / "data")}))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # FastAPI warns about duplicate operation ids
            spec: dict[str, Any] = create_app(hub.settings, hub).openapi()
    finally:
        hub.views.close()
        hub.store.close()
    schemas = spec["components"]["schemas"]
    mode = spec["paths"]["/api/v1/Mode/{mode}"]["put"]
    body = mode["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {
        "serialNumber",
        "temperature",
        "temperatureType",
        "holdUntil",
    }
    assert mode["responses"]["415"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Messages"
    }
    schedule = spec["paths"]["/api/v1/Thermostat/{serialNumber}/Schedule"]["put"]
    entries = schedule["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert entries["entries"]["items"] == {"$ref": "#/components/schemas/ScheduleEntry"}
    assert {"Account", "Thermostat", "ScheduleEntry", "Messages"} <= set(schemas)
