"""The one builder of the context recorded on every event, from a request or websocket."""

from __future__ import annotations

import uuid

from starlette.requests import HTTPConnection

from domain.context import CommandContext
from domain.principals.permissions import Principal

_MAX_CORRELATION_ID = 200


def command_context(connection: HTTPConnection, actor: Principal | None = None) -> CommandContext:
    """Who asks (None: a client not yet authenticated, as at the OAuth endpoints), from where.

    A caller's own correlation id is kept, bounded, so that its logs and our events meet.
    """
    correlation = connection.headers.get("x-correlation-id") or connection.headers.get(
        "x-request-id"
    )
    return CommandContext(
        actor_id=actor.id if actor else "anonymous",
        actor_kind=actor.kind if actor else "oauth_client",
        credential_id=actor.credential_id if actor else None,
        source_address=connection.client.host if connection.client else None,
        correlation_id=(correlation or str(uuid.uuid4()))[:_MAX_CORRELATION_ID],
        causation_id=None,
    )
