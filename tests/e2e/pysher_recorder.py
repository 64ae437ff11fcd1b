"""A Pysher client (protocol 6) that records every channel event it receives, in order."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import pysher


class RecordingPysher:
    def __init__(self, port: int, key: str, **options: Any) -> None:
        self.events: queue.Queue[tuple[str, str, Any]] = queue.Queue()
        self.client = pysher.Pusher(
            key, secure=False, custom_host="127.0.0.1", port=port, reconnect_interval=60,
            **options,
        )  # fmt: skip
        # Every channel event Pysher's connection hands to its channels, recorded before
        # it does: Pysher makes the channel object after sending the subscribe, so a fast
        # answer can arrive before a callback bound to it exists.
        dispatch = self.client.connection.event_handler

        def record(event: str, data: Any, channel: str) -> None:
            self.events.put((channel, event, data))
            dispatch(event, data, channel)

        self.client.connection.event_handler = record
        connected = threading.Event()
        self.client.connection.bind("pusher:connection_established", lambda _: connected.set())
        self.client.connect()
        assert connected.wait(10), "Pysher did not connect"

    def subscribe(self, channel: str) -> None:
        self.client.subscribe(channel)

    def disconnect(self) -> None:
        # Pysher closes the socket at once, but its thread then waits in websocket-client's
        # select on the closed socket for ~100 s: do not join it.
        self.client.disconnect(timeout=1)

    def next(self, channel: str, event: str) -> Any:
        """The data of the next `event` on `channel`, skipping what comes before it."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                got = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if got[:2] == (channel, event):
                return got[2]
        raise AssertionError(f"Pysher received no {event} on {channel}")

    def received(self, channel: str, count: int) -> list[tuple[str, Any]]:
        """The next `count` events on `channel`, as (event, data)."""
        got: list[tuple[str, Any]] = []
        deadline = time.monotonic() + 20
        while len(got) < count:
            on, event, data = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if on == channel:
                got.append((event, data))
        return got
