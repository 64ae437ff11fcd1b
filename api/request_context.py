"""Turns a request and its principal into the context recorded on every event."""

from __future__ import annotations

import uuid

from fastapi import Request

from domain.context import CommandContext
from domain.principals.permissions import Principal


def command_context(request: Request, principal: Principal) -> CommandContext:
    correlation = request.headers.get("x-correlation-id") or request.headers.get("x-request-id")
    return CommandContext(
        actor_id=principal.id,
        actor_kind=principal.kind,
        credential_id=principal.credential_id,
        source_address=request.client.host if request.client else None,
        correlation_id=(correlation or str(uuid.uuid4()))[:200],
        causation_id=None,
    )
