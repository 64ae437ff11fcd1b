"""OpenShock's share-link hub, /1/hubs/share/link/{id} (notes/openshock.md §4.2): whoever holds
a live share link controls its shockers within the link's rights, as a user (login session)
or as a named guest (`?name=`, 1..32 characters).

Refused before the upgrade (and at negotiate): an id that is not a GUID or no live link
(404), a session cookie or header that is not valid (401), neither a session nor a name
(401), a name too long (400). Welcome(authType: 0 Authenticated, 1 Guest); Updated() when
the link changes. Control(shocks) goes through the domain's share-link rules; a refusal is
silent, as on the user hub.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from starlette.requests import HTTPConnection

from domain.errors import DomainError, ViewsBehind
from domain.openshock.commands import ControlThroughShareLink
from domain.openshock.control_handlers import MAX_GUEST_NAME_LENGTH
from domain.openshock.errors import InvalidRequest
from domain.principals.permissions import Principal
from gateways.openshock import hub_arguments as args
from gateways.openshock.hub_notices import HubNotices
from gateways.openshock.socket_auth import OpenShockSocketAuth
from gateways.signalr.hub_server import Hub, HubConnection, HubError, HubRefused
from infra.command_bus import CommandBus
from infra.identity.session_credential import Authenticated, SessionCredential
from infra.request_context import command_context
from infra.store.view_reader import ViewReader
from projections.openshock_shapes import GUEST_ID
from projections.openshock_share_link_view import share_link
from projections.openshock_user_notifications import AUTHENTICATED, GUEST_AUTH

log = logging.getLogger(__name__)

PATH = "/1/hubs/share/link/{id}"
GUEST_KIND = "share_link_guest"
_LINK = "openshock.share_link"
_GUEST_NAME = "openshock.guest_name"
# A guest has nothing to revoke and nothing that expires: the link is checked per control.
_NO_CREDENTIAL = SessionCredential(revocable=None, expires_at=None)


class ShareLinkHub:
    def __init__(
        self, auth: OpenShockSocketAuth, bus: CommandBus, views: ViewReader, notices: HubNotices
    ) -> None:
        self._auth = auth
        self._bus = bus
        self._views = views
        self._notices = notices

    def hub(self) -> Hub:
        return Hub(
            path=PATH,
            methods={"Control": self._control},
            on_connected=self._connected,
            on_disconnected=self._disconnected,
            authenticate=self._authenticate,
        )

    async def _authenticate(self, connection: HTTPConnection) -> Authenticated | None:
        try:
            link_id = UUID(str(connection.path_params.get("id")))
        except ValueError:
            raise HubRefused(404) from None
        if self._auth.presents_session(connection):
            found = await self._auth.user(connection)
            if found is None or found.caller.token is not None:
                raise HubRefused(401)  # a session that is not valid is no guest either
            authenticated: Authenticated = found.authenticated
        else:
            name = connection.query_params.get("name", "").strip()
            if not name:
                return None
            if len(name) > MAX_GUEST_NAME_LENGTH:
                raise HubRefused(400)
            authenticated = Authenticated(
                Principal(id=GUEST_ID, kind=GUEST_KIND, permissions=frozenset()), _NO_CREDENTIAL
            )
        try:
            await self._views.fresh_views("openshock_share_links")
        except ViewsBehind:
            log.info("share-link hub: link %s read from views behind the log", link_id)
        if await self._views.query(share_link, str(link_id), datetime.now(UTC)) is None:
            raise HubRefused(404)  # missing and expired alike
        return authenticated

    async def _connected(self, connection: HubConnection) -> None:
        link_id = str(UUID(str(connection.path_params["id"])))
        connection.items[_LINK] = link_id
        if connection.principal.kind == GUEST_KIND:
            connection.items[_GUEST_NAME] = connection.query_params.get("name", "").strip()
        guest = connection.principal.kind == GUEST_KIND
        await connection.invoke("Welcome", GUEST_AUTH if guest else AUTHENTICATED)
        self._notices.add_link_guest(connection, link_id)

    async def _disconnected(self, connection: HubConnection) -> None:
        link_id = connection.items.get(_LINK)
        if link_id is not None:
            self._notices.remove_link_guest(connection, link_id)

    async def _control(self, connection: HubConnection, arguments: list[Any]) -> None:
        args.arity("Control", arguments, 1)
        items = args.control_items("Control", arguments[0])
        guest = connection.principal.kind == GUEST_KIND
        context = command_context(connection.websocket, connection.principal)
        command = ControlThroughShareLink(
            share_link_id=UUID(connection.items[_LINK]),
            user_id=None if guest else UUID(connection.principal.id),
            guest_name=connection.items.get(_GUEST_NAME) if guest else None,
            items=items,
            now=datetime.now(UTC),
            # The connection's id is what a Log's sender shows as its connectionId.
            context=dataclasses.replace(context, correlation_id=connection.connection_id),
        )
        try:
            await self._bus.execute(command)
        except InvalidRequest as exc:
            raise HubError(f"Invalid arguments: {exc}") from None
        except DomainError as exc:
            log.debug("share-link hub: control refused silently: %s", exc)
