"""An OpenShock websocket refused before its upgrade, answered as the real gateway answers:
an HTTP status with a problem body (infra/openshock/problems.py)."""

from __future__ import annotations

from typing import Any

from fastapi import WebSocket
from fastapi.responses import JSONResponse

from infra.openshock.problems import PROBLEM_JSON, problem_body, request_id_of


async def refuse(
    websocket: WebSocket,
    type_: str,
    title: str,
    status: int,
    detail: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> None:
    body = problem_body(type_, title, status, request_id_of(websocket), detail, extensions)
    response = JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)
    try:
        await websocket.send_denial_response(response)
    except RuntimeError:
        # A server without the denial-response extension: a close frame says as much.
        await websocket.close(code=1008, reason=title[:120])
