"""What each kind of channel asks of a subscriber.

The kind follows from the prefix, Pusher's way: `private-encrypted-` before `private-`,
and the `cache-` variants (`cache-`, `private-cache-`, `presence-cache-`,
`private-encrypted-cache-`) behave as their base kind here. Which names are valid is
`domain.pusher.channel_names`, shared with the HTTP API.
"""

from __future__ import annotations

import enum

from domain.pusher.channel_names import (
    ENCRYPTED_PREFIX,
    PRESENCE_PREFIX,
    PRIVATE_PREFIX,
    SERVER_TO_USER_PREFIX,
)


class ChannelKind(enum.Enum):
    PUBLIC = "public"
    PRIVATE = "private"
    ENCRYPTED = "private-encrypted"
    PRESENCE = "presence"
    # A signed-in user's own channel; only the HTTP API publishes to it.
    SERVER_TO_USER = "server-to-user"

    @property
    def needs_auth(self) -> bool:
        return self in (ChannelKind.PRIVATE, ChannelKind.ENCRYPTED, ChannelKind.PRESENCE)

    @property
    def takes_client_events(self) -> bool:
        # Encrypted channels carry ciphertext only the clients can open: no client events.
        return self in (ChannelKind.PRIVATE, ChannelKind.PRESENCE)


def kind_of(channel: str) -> ChannelKind:
    if channel.startswith(ENCRYPTED_PREFIX):
        return ChannelKind.ENCRYPTED
    if channel.startswith(PRIVATE_PREFIX):
        return ChannelKind.PRIVATE
    if channel.startswith(PRESENCE_PREFIX):
        return ChannelKind.PRESENCE
    if channel.startswith(SERVER_TO_USER_PREFIX):
        return ChannelKind.SERVER_TO_USER
    return ChannelKind.PUBLIC
