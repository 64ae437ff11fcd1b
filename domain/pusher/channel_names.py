"""Pusher's rules for channel and event names, shared by the HTTP API and the websocket side."""

from __future__ import annotations

import re

# Pusher's alphabet for channel names (and for user ids, which end up in channel names).
_NAME = re.compile(r"[-a-zA-Z0-9_=@,.;]+")
SERVER_TO_USER_PREFIX = "#server-to-user-"
ENCRYPTED_PREFIX = "private-encrypted-"
PRESENCE_PREFIX = "presence-"
PRIVATE_PREFIX = "private-"
# Names the protocol itself uses: no app may send an event that looks like one of them.
_RESERVED_EVENT_PREFIXES = ("pusher:", "pusher_internal:")
# Pusher's own limit on user ids; a server-to-user channel is that id behind its prefix.
MAX_USER_ID_LENGTH = 200


def channel_name_problem(name: str, max_length: int) -> str | None:
    """Why `name` is not a channel name, or None when it is one."""
    if name.startswith(SERVER_TO_USER_PREFIX):
        user_id = name[len(SERVER_TO_USER_PREFIX) :]
        problem = user_id_problem(user_id)
        return None if problem is None else f"invalid server-to-user channel: {problem}"
    if not name:
        return "a channel name must not be empty"
    if len(name) > max_length:
        return f"channel name longer than {max_length} characters"
    if not _NAME.fullmatch(name):
        return "channel names may only contain a-z A-Z 0-9 _ - = @ , . ;"
    return None


def user_id_problem(user_id: str) -> str | None:
    if not user_id:
        return "a user id must not be empty"
    if len(user_id) > MAX_USER_ID_LENGTH:
        return f"user id longer than {MAX_USER_ID_LENGTH} characters"
    if not _NAME.fullmatch(user_id):
        return "user ids may only contain a-z A-Z 0-9 _ - = @ , . ;"
    return None


def event_name_problem(name: str, max_length: int) -> str | None:
    if not name:
        return "an event name must not be empty"
    if len(name) > max_length:
        return f"event name longer than {max_length} characters"
    if name.startswith(_RESERVED_EVENT_PREFIXES):
        return "event names starting with pusher: or pusher_internal: are reserved"
    return None


def is_encrypted(channel: str) -> bool:
    return channel.startswith(ENCRYPTED_PREFIX)


def is_presence(channel: str) -> bool:
    return channel.startswith(PRESENCE_PREFIX)
