"""OpenShock's user hub, /1/hubs/user (notes/openshock.md §4.1): a user's session or API
token; Welcome(connectionId), then DeviceStatus of the online hubs it watches, then what
projections/openshock_user_notifications.py says.

Invocations act as the REST API does but answer nothing: a refusal (a shocker not found or
paused, a token without shockers.use or paused, another user's hub) is silent, as the real
hub's methods return nothing. Only arguments that cannot be bound, or values out of range,
come back as a completion error. CaptivePortal, EmergencyStop, OtaInstall and Reboot are
for a user's session only: an API token's are ignored.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any
from uuid import UUID

from starlette.requests import HTTPConnection

from domain.commands import Command
from domain.context import CommandContext
from domain.errors import DomainError, ViewsBehind
from domain.openshock.callers import caller_of
from domain.openshock.commands import ControlShockers
from domain.openshock.errors import InvalidRequest
from domain.openshock.hub_link import TriggerKind
from domain.openshock.hub_link_commands import RequestOtaInstall, TriggerHub
from domain.openshock.values import Caller
from gateways.openshock import hub_arguments as args
from gateways.openshock.hub_notices import WATCH_VIEWS, HubNotices, device_states, watched_hubs
from gateways.openshock.socket_auth import OpenShockSocketAuth
from gateways.signalr.hub_server import Hub, HubConnection, HubError
from infra.command_bus import CommandBus
from infra.identity.session_credential import Authenticated
from infra.request_context import command_context
from infra.store.view_reader import ViewReader

log = logging.getLogger(__name__)

PATH = "/1/hubs/user"


class UserHub:
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
            methods={
                "Control": self._control,
                "ControlV2": self._control_v2,
                "CaptivePortal": self._captive_portal,
                "EmergencyStop": self._emergency_stop,
                "OtaInstall": self._ota_install,
                "Reboot": self._reboot,
            },
            on_connected=self._connected,
            on_disconnected=self._disconnected,
            authenticate=self._authenticate,
        )

    async def _authenticate(self, connection: HTTPConnection) -> Authenticated | None:
        found = await self._auth.user(connection)
        return None if found is None else found.authenticated

    async def _connected(self, connection: HubConnection) -> None:
        user_id = connection.principal.id
        await connection.invoke("Welcome", connection.connection_id)
        # Registered before the hubs are read: a change meanwhile is told, not lost.
        self._notices.add_user(connection, user_id)
        try:
            await self._views.fresh_views(*WATCH_VIEWS)
        except ViewsBehind:
            log.info("user hub: %s's hubs read from views behind the log", user_id)
        hub_ids, statuses = await self._views.query(watched_hubs, user_id)
        self._notices.watch(connection, hub_ids)
        await connection.invoke("DeviceStatus", device_states(statuses))

    async def _disconnected(self, connection: HubConnection) -> None:
        self._notices.remove_user(connection, connection.principal.id)

    async def _control(self, connection: HubConnection, arguments: list[Any]) -> None:
        args.arity("Control", arguments, 1)
        await self._send_control(connection, "Control", arguments[0], None)

    async def _control_v2(self, connection: HubConnection, arguments: list[Any]) -> None:
        args.arity("ControlV2", arguments, 1, 2)
        custom_name = args.text(
            "ControlV2", "customName", arguments[1] if len(arguments) > 1 else None, optional=True
        )
        await self._send_control(connection, "ControlV2", arguments[0], custom_name)

    async def _send_control(
        self, connection: HubConnection, method: str, shocks: Any, custom_name: str | None
    ) -> None:
        items = args.control_items(method, shocks)
        caller = _caller(connection)
        await self._silently(
            ControlShockers(
                caller=caller, items=items, custom_name=custom_name, context=_context(connection)
            )
        )

    async def _captive_portal(self, connection: HubConnection, arguments: list[Any]) -> None:
        args.arity("CaptivePortal", arguments, 2)
        hub_id = args.guid("CaptivePortal", "deviceId", arguments[0])
        enabled = args.boolean("CaptivePortal", "enabled", arguments[1])
        kind = TriggerKind.CAPTIVE_PORTAL_ENABLE if enabled else TriggerKind.CAPTIVE_PORTAL_DISABLE
        await self._trigger(connection, hub_id, kind)

    async def _emergency_stop(self, connection: HubConnection, arguments: list[Any]) -> None:
        args.arity("EmergencyStop", arguments, 1)
        hub_id = args.guid("EmergencyStop", "deviceId", arguments[0])
        await self._trigger(connection, hub_id, TriggerKind.EMERGENCY_STOP)

    async def _reboot(self, connection: HubConnection, arguments: list[Any]) -> None:
        args.arity("Reboot", arguments, 1)
        hub_id = args.guid("Reboot", "deviceId", arguments[0])
        await self._trigger(connection, hub_id, TriggerKind.RESTART)

    async def _ota_install(self, connection: HubConnection, arguments: list[Any]) -> None:
        args.arity("OtaInstall", arguments, 2)
        hub_id = args.guid("OtaInstall", "deviceId", arguments[0])
        version = args.text("OtaInstall", "version", arguments[1])
        caller = _caller(connection)
        if caller.token is not None:
            return  # a user session's only
        await self._silently(
            RequestOtaInstall(
                caller=caller,
                hub_id=hub_id,
                version=str(version),
                context=_context(connection),
            )
        )

    async def _trigger(self, connection: HubConnection, hub_id: UUID, kind: int) -> None:
        caller = _caller(connection)
        if caller.token is not None:
            return  # a user session's only
        await self._silently(
            TriggerHub(caller=caller, hub_id=hub_id, kind=kind, context=_context(connection))
        )

    async def _silently(self, command: Command) -> None:
        try:
            await self._bus.execute(command)
        except InvalidRequest as exc:
            raise HubError(f"Invalid arguments: {exc}") from None
        except DomainError as exc:
            log.debug("user hub: %s refused silently: %s", type(command).__name__, exc)


def _caller(connection: HubConnection) -> Caller:
    caller = caller_of(connection.principal)
    if caller is None:  # authenticate() let in only OpenShock callers
        raise HubError("This connection acts for no OpenShock user.")
    return caller


def _context(connection: HubConnection) -> CommandContext:
    """The connection's id is what a Log's sender shows as its connectionId."""
    context = command_context(connection.websocket, connection.principal)
    return dataclasses.replace(context, correlation_id=connection.connection_id)
