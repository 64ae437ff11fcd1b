"""What a client's frames do: subscriptions, presence, sign-in and client events.

Refusals follow Pusher: a channel that cannot be joined gets `pusher:error` with code
null (a 4xxx code would make Pysher drop or re-open the connection), a rejected client
event gets 4301, and only a failed sign-in closes the socket (4009).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson

from domain.pusher.channel_names import SERVER_TO_USER_PREFIX, channel_name_problem
from gateways.pusher import protocol
from gateways.pusher.cache import CachedEvent, cache_miss, is_cache_channel
from gateways.pusher.channel_kinds import ChannelKind, kind_of
from gateways.pusher.channels import ChannelRegistry
from gateways.pusher.connection import Ending, PusherConnection
from gateways.pusher.protocol import ClientFrame, FrameError, quoted
from gateways.pusher.signatures import channel_message, is_authorised, signin_message
from gateways.pusher.watchlists import WATCHLIST_REFUSED, WatchlistRefused, parse_watchlist


class ClientEventRejected(FrameError):
    """Answered with 4301; the connection stays open."""


@dataclass(frozen=True)
class ClientEvent:
    """A client event that passed every check, for the log to record and fan out."""

    channel: str
    name: str
    data: Any
    # The sender's presence user, on presence channels.
    user_id: str | None


class PusherSession:
    __slots__ = ("_send_client_event", "connection", "registry")

    def __init__(
        self,
        connection: PusherConnection,
        registry: ChannelRegistry,
        send_client_event: Callable[[ClientEvent], None],
    ) -> None:
        self.connection = connection
        self.registry = registry
        self._send_client_event = send_client_event

    def receive(self, payload: str | bytes) -> None:
        """Acts on one client message; every refusal is answered in Pusher's own frames."""
        connection = self.connection
        connection.heard()
        try:
            frame = protocol.parse(payload)
            self._handle(frame)
        except ClientEventRejected as rejected:
            connection.deliver(protocol.error(str(rejected), protocol.CLIENT_EVENT_REJECTED))
        except FrameError as refused:
            connection.deliver(protocol.error(str(refused)))

    def _handle(self, frame: ClientFrame) -> None:
        name = frame.event
        if name == "pusher:ping":
            self.connection.deliver(protocol.PONG)
        elif name == "pusher:pong":
            pass  # heard() already counted it
        elif name == "pusher:subscribe":
            self._subscribe(protocol.data_object(frame))
        elif name == "pusher:unsubscribe":
            channel = protocol.data_object(frame).get("channel")
            if isinstance(channel, str):
                self.registry.unsubscribe(self.connection, channel)
        elif name == "pusher:signin":
            self._sign_in(protocol.data_object(frame))
        elif name.startswith("client-"):
            self._client_event(frame)
        else:
            raise FrameError(f"Unsupported event {quoted(name)}")

    def _subscribe(self, data: dict[str, Any]) -> None:
        connection = self.connection
        app = connection.app
        limits = app.limits
        channel = data.get("channel")
        if not isinstance(channel, str):
            raise FrameError("pusher:subscribe needs data.channel, a string")
        why = channel_name_problem(channel, limits.max_channel_name_length)
        if why is not None:
            raise FrameError(f"Invalid channel {quoted(channel)}: {why}")
        kind = kind_of(channel)
        member = None
        if kind is ChannelKind.SERVER_TO_USER:
            if connection.user_id is None or channel != SERVER_TO_USER_PREFIX + connection.user_id:
                raise FrameError(f"Cannot subscribe to {quoted(channel)}: sign in as that user")
        elif kind.needs_auth:
            channel_data = data.get("channel_data") if kind is ChannelKind.PRESENCE else None
            if kind is ChannelKind.PRESENCE and not isinstance(channel_data, str):
                raise FrameError(f"Presence channel {quoted(channel)} needs channel_data")
            signed = channel_message(connection.socket_id, channel, channel_data)
            if not is_authorised(data.get("auth"), app.key, app.secret, signed):
                raise FrameError(
                    f"Invalid signature: expected HMAC SHA256 hex digest of {quoted(signed)}"
                )
            if channel_data is not None:
                member = self._member(channel, channel_data)
        first = channel not in connection.subscriptions
        if not first:
            if member is not None and connection.subscriptions[channel] != member[0]:
                raise FrameError(f"Already subscribed to {quoted(channel)} as another user")
            self.registry.subscribe_again(connection, channel)
        else:
            self.registry.subscribe(connection, channel, member)
        data_out = (
            self.registry.presence_data(app.app_id, channel)
            if kind is ChannelKind.PRESENCE
            else "{}"
        )
        connection.deliver(
            protocol.event("pusher_internal:subscription_succeeded", data_out, channel)
        )
        if is_cache_channel(channel):
            # At once from memory; else once the store was read (the frames that follow
            # subscription_succeeded meanwhile are this channel's live events).
            self.registry.cache.answer(
                app.app_id, channel, connection.socket_id, partial(self._replay, channel)
            )
        if first and limits.subscription_count_events:
            self.registry.count_changed(app.app_id, channel)

    def _replay(self, channel: str, cached: CachedEvent | None) -> None:
        """A new subscriber of a cache channel is sent its last event, or cache_miss."""
        connection = self.connection
        if connection.ending is not None or channel not in connection.subscriptions:
            return  # gone, or unsubscribed while the store was read
        if cached is not None:
            connection.deliver(cached.frame)
            return
        app = connection.app
        if any("cache_miss" in hook.event_types for hook in app.webhooks):
            self.registry.peers.cache_missed(app.app_id, channel)
        connection.deliver(cache_miss(channel))

    def _member(self, channel: str, channel_data: str) -> tuple[str, Any]:
        limits = self.connection.app.limits
        try:
            parsed = orjson.loads(channel_data)
        except orjson.JSONDecodeError:
            raise FrameError("Invalid presence channel_data: not JSON") from None
        if not isinstance(parsed, dict):
            raise FrameError("Invalid presence channel_data: must be a JSON object")
        user_id = parsed.get("user_id")
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            user_id = str(user_id)
        if not isinstance(user_id, str) or not user_id:
            raise FrameError("Invalid presence channel_data: user_id must be a non-empty string")
        user_info = parsed.get("user_info")
        if (
            protocol.encoded_size(user_info, "Presence user_info")
            > limits.max_presence_member_bytes
        ):
            raise FrameError(f"Presence member data over {limits.max_presence_member_bytes} bytes")
        app_id = self.connection.app.app_id
        if (
            not self.registry.has_member(app_id, channel, user_id)
            and self.registry.member_count(app_id, channel) >= limits.max_presence_members
        ):
            raise FrameError(
                f"Presence channel {quoted(channel)} is full"
                f" ({limits.max_presence_members} members)"
            )
        return user_id, user_info

    def _sign_in(self, data: dict[str, Any]) -> None:
        connection = self.connection
        app = connection.app
        user_data = data.get("user_data")
        user_id, watchlist = _user(user_data)
        signed = (
            signin_message(connection.socket_id, user_data) if isinstance(user_data, str) else ""
        )
        if user_id is None or not is_authorised(data.get("auth"), app.key, app.secret, signed):
            connection.end(
                Ending(
                    protocol.UNAUTHORIZED,
                    "Sign-in failed",
                    protocol.error(
                        "Invalid sign-in: bad signature or user_data", protocol.UNAUTHORIZED
                    ),
                )
            )
            return
        self.registry.sign_in(connection, user_id)
        connection.deliver(protocol.event("pusher:signin_success", {"user_data": user_data}))
        try:
            watched = parse_watchlist(watchlist)
        except WatchlistRefused as refused:
            # Signed in all the same: only the watchlist is refused (Sockudo's 4302).
            connection.deliver(protocol.error(str(refused), WATCHLIST_REFUSED))
            watched = ()
        self.registry.watchlists.watch(app.app_id, connection, watched)

    def _client_event(self, frame: ClientFrame) -> None:
        connection = self.connection
        limits = connection.app.limits
        channel = frame.channel
        if not limits.client_events:
            raise ClientEventRejected("Client events are not enabled for this app")
        if channel is None:
            raise ClientEventRejected("A client event needs a channel")
        kind = kind_of(channel)
        if not kind.takes_client_events:
            where = "encrypted" if kind is ChannelKind.ENCRYPTED else "public"
            raise ClientEventRejected(
                f"Client event rejected: not supported on {where} channels,"
                " only on private- and presence- channels"
            )
        if channel not in connection.subscriptions:
            raise ClientEventRejected(
                f"Client event rejected: subscribe to {quoted(channel)} first"
            )
        if len(frame.event) > limits.max_event_name_length:
            raise ClientEventRejected(
                f"Client event name longer than {limits.max_event_name_length} characters"
            )
        if not connection.allow_client_event():
            raise ClientEventRejected(
                f"Client event rejected: over {limits.max_client_events_per_second} per second"
            )
        user_id = connection.subscriptions[channel]
        if protocol.encoded_size(frame.data, "Client event data") > limits.max_event_payload_bytes:
            raise ClientEventRejected(f"Client event over {limits.max_event_payload_bytes} bytes")
        self._send_client_event(ClientEvent(channel, frame.event, frame.data, user_id))


def _user(user_data: object) -> tuple[str | None, object]:
    """The user id of a sign-in's user_data (None when it has none), and its watchlist."""
    if not isinstance(user_data, str):
        return None, None
    try:
        parsed = orjson.loads(user_data)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(parsed, dict):
        return None, None
    user_id = parsed.get("id")
    return (user_id if isinstance(user_id, str) and user_id else None), parsed.get("watchlist")
