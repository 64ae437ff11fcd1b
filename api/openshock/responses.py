"""OpenShock's response bodies for hubs, shockers and control logs, as the real API writes them.

Three envelopes coexist there and each route keeps its own: `{message, data}` (most v1
reads and the legacy writes), raw bodies (v2, the paged logs), and a bare JSON value (a new
hub's id). Enums are their names ("Shock", "PetTrainer"); times are UTC with six fractional
digits at most and a `Z`, which every client parses (.NET writes seven, which Python 3.10's
`fromisoformat` refuses).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.responses import JSONResponse, Response

from projections.openshock_control_log_view import ControlLog, LogPage
from projections.openshock_hub_view import HubRow, HubWithShockers, ShockerRow
from projections.openshock_share_view import SharedByOwner


class OpenShockJson(JSONResponse):
    """JSON as the real API writes it: compact, UTF-8, and fast (orjson)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def utc(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


def legacy(data: Any, message: str = "", status_code: int = 200) -> Response:
    """`LegacyDataResponse` / `LegacyEmptyResponse`: `{message, data}`."""
    return OpenShockJson({"message": message, "data": data}, status_code=status_code)


def raw(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return OpenShockJson(body, status_code=status_code, headers=headers)


def empty_ok() -> Response:
    """The real API's bare `Ok()`: 200 with no body."""
    return Response(status_code=200)


def hub(row: HubRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "createdOn": utc(row.created_on)}


def hub_with_token(row: HubRow, token: str | None) -> dict[str, Any]:
    # token is None for an API token without devices.auth, as the real API answers.
    return {**hub(row), "token": token}


def shocker(row: ShockerRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "rfId": row.rf_id,
        "model": row.model,
        "name": row.name,
        "isPaused": row.is_paused,
        "createdOn": utc(row.created_on),
    }


def shocker_with_hub(row: ShockerRow) -> dict[str, Any]:
    return {**shocker(row), "device": row.hub_id}


def minimal_shocker(row: ShockerRow) -> dict[str, Any]:
    """What a hub's firmware reads of its shockers (GET /1/device/self)."""
    return {"id": row.id, "rfId": row.rf_id, "model": row.model}


def hub_with_shockers(found: HubWithShockers) -> dict[str, Any]:
    return {**hub(found.hub), "shockers": [shocker(s) for s in found.shockers]}


def shared_owner(found: SharedByOwner) -> dict[str, Any]:
    """GET /1/shockers/shared: an owner, their hubs, and the shockers shared with the caller."""
    return {
        "id": found.owner.id,
        "name": found.owner.name,
        "image": found.owner.image,
        "devices": [
            {
                "id": hub_.id,
                "name": hub_.name,
                "shockers": [
                    {
                        "id": share.id,
                        "name": share.name,
                        "isPaused": share.is_paused,
                        "permissions": share.permissions.as_dict(),
                        "limits": share.limits.as_dict(),
                    }
                    for share in hub_.shockers
                ],
            }
            for hub_ in found.hubs
        ],
    }


def log_entry(log: ControlLog) -> dict[str, Any]:
    """GET /1/shockers/{id}/logs: one control, newest first."""
    sender = log.controlled_by
    return {
        "id": log.id,
        "createdOn": utc(log.created_on),
        "type": log.type,
        "controlledBy": {
            "id": sender.id,
            "name": sender.name,
            "image": sender.image,
            "customName": sender.custom_name,
        },
        "intensity": log.intensity,
        "duration": log.duration,
    }


def log_entry_with_hub(log: ControlLog) -> dict[str, Any]:
    return {
        **log_entry(log),
        "hubId": log.hub_id,
        "hubName": log.hub_name,
        "shockerId": log.shocker_id,
        "shockerName": log.shocker_name,
    }


def log_page(page: LogPage) -> dict[str, Any]:
    """GET /1/shockers/logs: the real API's PagedResult. `data` repeats `items`: the official
    Python SDK reads `data` there (a superset serves both; the SDK's offset/limit are not the
    real API's and are ignored, as there)."""
    items = [log_entry_with_hub(log) for log in page.items]
    return {
        "items": items,
        "page": page.page,
        "pageSize": page.page_size,
        "totalCount": page.total_count,
        "totalPages": page.total_pages,
        "data": items,
    }
