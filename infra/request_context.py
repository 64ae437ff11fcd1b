"""The one builder of the context recorded on every event, from a request or websocket."""

from __future__ import annotations

import itertools
import secrets

from starlette.requests import HTTPConnection

from domain.context import CommandContext
from domain.principals.permissions import Principal

_MAX_CORRELATION_ID = 200

# Correlation ids made here: a prefix drawn once per process (96 random bits, so no two
# processes, before or after a restart, share one) and a counter, so that no request pays
# for uuid4's os.urandom, a syscall that lets go of the GIL on the event loop.
_PROCESS_PREFIX = secrets.token_hex(12)
_REQUEST_NUMBERS = itertools.count(1)


def command_context(connection: HTTPConnection, actor: Principal | None = None) -> CommandContext:
    """Who asks (None: a client not yet authenticated, as at the OAuth endpoints), from where.

    A caller's own correlation id is kept, bounded, so that its logs and our events meet.
    """
    scope = connection.scope
    client = scope.get("client")
    return CommandContext(
        actor_id=actor.id if actor else "anonymous",
        actor_kind=actor.kind if actor else "oauth_client",
        credential_id=actor.credential_id if actor else None,
        source_address=client[0] if client else None,
        correlation_id=(_callers_correlation_id(scope["headers"]) or _new_correlation_id())[
            :_MAX_CORRELATION_ID
        ],
        causation_id=None,
    )


def _callers_correlation_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The first X-Correlation-Id, else the first X-Request-Id (an empty one counts as none),
    in one pass over the raw headers rather than two lookups through Starlette's Headers."""
    correlation = request_id = None
    for name, value in headers:
        if correlation is None and name == b"x-correlation-id":
            correlation = value
        elif request_id is None and name == b"x-request-id":
            request_id = value
    chosen = correlation or request_id
    return chosen.decode("latin-1") if chosen else None


def _new_correlation_id() -> str:
    return f"{_PROCESS_PREFIX}-{next(_REQUEST_NUMBERS):x}"
