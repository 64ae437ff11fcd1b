"""The bodies of POST events and batch_events, checked against the app's limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from api.pusher.errors import PusherError
from domain.pusher.apps import AppLimits
from domain.pusher.channel_names import channel_name_problem, event_name_problem, is_encrypted
from domain.pusher.commands import Trigger

_SOCKET_ID = re.compile(r"[0-9]{1,20}\.[0-9]{1,20}")
INFO_ATTRIBUTES = frozenset({"subscription_count", "user_count"})
_FIELDS = frozenset({"name", "data", "channel", "channels", "socket_id", "info"})


@dataclass(frozen=True)
class RequestedTrigger:
    trigger: Trigger
    # What the caller asked to be told about each channel once the event is stored.
    info: frozenset[str]


def json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise PusherError(400, "The request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise PusherError(400, "The request body must be a JSON object")
    return parsed


def body_bound(limits: AppLimits, items: int) -> int:
    """The most bytes a body of `items` events within the limits can take.

    JSON may escape each byte of data into two (a quote, a backslash), and each event also
    names its channels; anything larger can't be a body these limits accept.
    """
    per_item = (
        2 * limits.max_event_payload_bytes
        + limits.max_channels_per_trigger * (limits.max_channel_name_length + 8)
        + 2 * limits.max_event_name_length
        + 512
    )
    return items * per_item + 1024


def parse_event(item: Any, limits: AppLimits, where: str = "") -> RequestedTrigger:
    if not isinstance(item, dict):
        raise PusherError(400, f"{where}an event must be a JSON object")
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        # Pusher's extensions elsewhere (Sockudo's tags, idempotency keys) are not served
        # here: refusing them says so, where ignoring them would lose what the caller meant.
        raise PusherError(400, f"{where}unknown fields: {', '.join(unknown)[:100]}")
    name = item.get("name")
    if not isinstance(name, str):
        raise PusherError(400, f"{where}name is required and must be a string")
    problem = event_name_problem(name, limits.max_event_name_length)
    if problem is not None:
        code = "limit_exceeded" if len(name) > limits.max_event_name_length else None
        raise PusherError(400, f"{where}{problem}", code)
    channels = _channels(item, limits, where)
    data = _data(item, where)
    if len(data.encode()) > limits.max_event_payload_bytes:
        raise PusherError(
            413, f"{where}event data is larger than {limits.max_event_payload_bytes} bytes"
        )
    socket_id = item.get("socket_id")
    if socket_id is not None and (
        not isinstance(socket_id, str) or not _SOCKET_ID.fullmatch(socket_id)
    ):
        raise PusherError(400, f"{where}socket_id must look like 1234.5678")
    return RequestedTrigger(
        Trigger(tuple(channels), name, data, socket_id), parse_info(item.get("info"), where)
    )


def parse_info(raw: Any, where: str = "") -> frozenset[str]:
    if raw is None or raw == "":
        return frozenset()
    if not isinstance(raw, str):
        raise PusherError(400, f"{where}info is a comma-separated list")
    asked = frozenset(part.strip() for part in raw.split(",") if part.strip())
    unknown = sorted(asked - INFO_ATTRIBUTES)
    if unknown:
        raise PusherError(400, f"{where}info may ask for subscription_count and user_count only")
    return asked


def _channels(item: dict[str, Any], limits: AppLimits, where: str) -> list[str]:
    if "channels" in item and "channel" in item:
        raise PusherError(400, f"{where}give channel or channels, not both")
    raw = item.get("channels", item.get("channel"))
    channels = [raw] if isinstance(raw, str) else raw
    if not isinstance(channels, list) or not channels:
        raise PusherError(400, f"{where}channels must be a non-empty list of channel names")
    if len(channels) > limits.max_channels_per_trigger:
        raise PusherError(
            400,
            f"{where}an event goes to at most {limits.max_channels_per_trigger} channels",
            "limit_exceeded",
        )
    for channel in channels:
        if not isinstance(channel, str):
            raise PusherError(400, f"{where}channel names are strings")
        problem = channel_name_problem(channel, limits.max_channel_name_length)
        if problem is not None:
            code = "limit_exceeded" if "longer than" in problem else None
            raise PusherError(400, f"{where}{problem}", code)
    if len(set(channels)) != len(channels):
        raise PusherError(400, f"{where}a channel is named twice")
    if len(channels) > 1 and any(is_encrypted(c) for c in channels):
        # Each encrypted channel has its own key: one ciphertext can't serve two.
        raise PusherError(400, f"{where}an event for an encrypted channel goes to it alone")
    return channels


def _data(item: dict[str, Any], where: str) -> str:
    if "data" not in item:
        raise PusherError(400, f"{where}data is required")
    data = item["data"]
    if isinstance(data, str):
        return data
    # Pusher says a string; Sockudo and soketi also take JSON values, sent on serialised.
    return orjson.dumps(data).decode()
