"""SENZ change notifications: the SignalR hub at /v1/changenotifications (seeds/senz-restapi.md).

Clients call Subscribe(types) and Unsubscribe(types) — counted per type, so it takes as
many Unsubscribe calls as Subscribe calls to stop — and receive Notify with a list of
{type, id, timeStamp}: type 1 UserAccount (id = account id), type 2 Thermostat (id =
serial number). A user is told only about their own account and thermostats
(projections/senz_changes.py decides whose change each event is); changes logged
together reach a client as one Notify.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool

from domain.principals.permissions import Principal
from gateways.signalr.hub_server import Hub, HubConnection, HubError
from gateways.signalr.protocol import shown
from infra.identity.access_token_validator import AccessTokenValidator
from infra.identity.access_tokens import InvalidAccessToken, acts_for_user
from infra.identity.session_credential import Authenticated
from infra.log.feed import LogFeed
from projections.records import LogRecord
from projections.senz_changes import THERMOSTAT, USER_ACCOUNT, change_of

log = logging.getLogger(__name__)

_SUBSCRIPTIONS = "subscriptions"


class ChangeNotifications:
    def __init__(self, feed: LogFeed, validator: AccessTokenValidator) -> None:
        self._validator = validator
        self._by_user: dict[str, set[HubConnection]] = defaultdict(set)
        feed.add_listener(self._on_records)

    def hub(self) -> Hub:
        return Hub(
            path="/v1/changenotifications",
            methods={"Subscribe": self._subscribe, "Unsubscribe": self._unsubscribe},
            on_connected=self._connected,
            on_disconnected=self._disconnected,
        )

    async def authenticate(self, token: str) -> Authenticated | None:
        try:
            claims = await run_in_threadpool(self._validator.validate, token)
        except InvalidAccessToken:
            return None
        if not acts_for_user(claims):
            return None  # a client's own token: there is no user to notify
        if "restapi" not in str(claims.get("scope", "")).split():
            return None
        principal = Principal(str(claims["sub"]), "user", frozenset(), str(claims.get("jti")))
        return Authenticated(principal, self._validator.credential_of(claims))

    async def _connected(self, connection: HubConnection) -> None:
        connection.items[_SUBSCRIPTIONS] = Counter()
        self._by_user[connection.principal.id].add(connection)

    async def _disconnected(self, connection: HubConnection) -> None:
        connections = self._by_user.get(connection.principal.id)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._by_user[connection.principal.id]

    async def _subscribe(self, connection: HubConnection, arguments: list[Any]) -> None:
        for kind in _types(arguments):
            connection.items[_SUBSCRIPTIONS][kind] += 1

    async def _unsubscribe(self, connection: HubConnection, arguments: list[Any]) -> None:
        counts: Counter[int] = connection.items[_SUBSCRIPTIONS]
        for kind in _types(arguments):
            if counts[kind] > 0:
                counts[kind] -= 1

    def _on_records(self, records: Sequence[LogRecord]) -> None:
        batches: dict[HubConnection, list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            change = change_of(record)
            if change is None:
                continue
            for connection in self._by_user.get(change.user, ()):
                if connection.items[_SUBSCRIPTIONS][change.item["type"]] > 0:
                    batches[connection].append(change.item)
        for connection, items in batches.items():
            asyncio.get_running_loop().create_task(_notify(connection, items))


async def _notify(connection: HubConnection, items: list[dict[str, Any]]) -> None:
    try:
        await connection.invoke("Notify", items)
    except Exception:
        log.debug("could not notify %s; it is closing", connection.connection_id)


def _types(arguments: list[Any]) -> list[int]:
    """Subscribe(["1", "2"]) as SENZ's samples send it; whole numbers are accepted too."""
    if len(arguments) != 1 or not isinstance(arguments[0], list):
        raise HubError(
            'Subscribe and Unsubscribe take one argument: a list of types, e.g. ["1","2"]'
        )
    kinds = []
    for value in arguments[0]:
        kind = _type_of(value)
        if kind is None:
            raise HubError(f"unknown notification type {shown(value, 40)}; use 1 or 2")
        kinds.append(kind)
    return kinds


def _type_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        kind = value
    elif isinstance(value, float) and value.is_integer():
        kind = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 10):
            return None
        kind = int(text)
    else:
        return None
    return kind if kind in (USER_ACCOUNT, THERMOSTAT) else None
