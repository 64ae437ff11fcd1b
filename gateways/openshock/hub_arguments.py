"""The arguments of the OpenShock SignalR hubs' invocations, read as ASP.NET Core binds them.

A value of the wrong shape (a string for an intensity, a list that is not one) fails the
invocation's binding: the caller gets a completion error naming the argument, as SignalR
answers an argument it could not bind. Ranges (intensity 0..100, duration 300..65535) are
the domain's to check, as for REST.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.openshock.commands import ControlItem
from gateways.signalr.hub_server import HubError

# More items than any account can hold shockers (4 hubs of 11, plus shares) is no control.
MAX_CONTROL_ITEMS = 128


def arity(method: str, arguments: list[Any], *counts: int) -> None:
    if len(arguments) not in counts:
        expected = " or ".join(str(c) for c in counts)
        raise HubError(
            f"Failed to invoke '{method}': it takes {expected} argument(s), got {len(arguments)}."
        )


def control_items(method: str, shocks: Any) -> tuple[ControlItem, ...]:
    if not isinstance(shocks, list):
        raise _binding(method, "shocks", "an array of control items")
    if len(shocks) > MAX_CONTROL_ITEMS:
        raise _binding(method, "shocks", f"at most {MAX_CONTROL_ITEMS} control items")
    return tuple(_item(method, index, shock) for index, shock in enumerate(shocks))


def guid(method: str, name: str, value: Any) -> UUID:
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise _binding(method, name, "a GUID")


def boolean(method: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _binding(method, name, "true or false")
    return value


def text(method: str, name: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _binding(method, name, "a string" + (" or null" if optional else ""))
    return value


def _item(method: str, index: int, shock: Any) -> ControlItem:
    path = f"shocks[{index}]"
    if not isinstance(shock, dict):
        raise _binding(method, path, "an object")
    # System.Text.Json as SignalR configures it reads property names in any case.
    fields = {str(key).lower(): value for key, value in shock.items()}
    kind = fields.get("type")
    if isinstance(kind, bool) or not isinstance(kind, int | str):
        raise _binding(method, f"{path}.type", "Stop, Shock, Vibrate, Sound or 0..3")
    exclusive = fields.get("exclusive", False)
    return ControlItem(
        shocker_id=guid(method, f"{path}.id", fields.get("id")),
        type=kind,
        intensity=_integer(method, f"{path}.intensity", fields.get("intensity")),
        duration=_integer(method, f"{path}.duration", fields.get("duration")),
        exclusive=boolean(method, f"{path}.exclusive", exclusive),
    )


def _integer(method: str, path: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _binding(method, path, "a whole number")
    return value


def _binding(method: str, path: str, expected: str) -> HubError:
    return HubError(
        f"Failed to invoke '{method}': error binding arguments: {path} must be {expected}."
    )
