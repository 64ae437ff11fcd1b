"""A Pusher app's webhook endpoint for e2e tests: a real HTTP server that checks the
signature with the `pusher` library, as an app's backend would, and keeps what came."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pusher

from tests.e2e.pusher_apps import PusherApp


class Receiver:
    def __init__(self, app: PusherApp, failures: int) -> None:
        self.validator = pusher.Pusher(app_id=app.app_id, key=app.key, secret=app.secret)
        self.failures = failures
        self.requests = 0
        self.bad_signatures = 0
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.url = ""

    def wait_for(
        self, found: Callable[[list[dict[str, Any]]], bool], within: float = 30
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with self.lock:
                events = list(self.events)
            if found(events):
                return events
            time.sleep(0.1)
        raise AssertionError(f"webhooks never matched; got {events}")

    def named(self, name: str, channel: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events if e["name"] == name and e["channel"] == channel]


@contextmanager
def webhook_receiver(app: PusherApp, failures: int = 0) -> Iterator[Receiver]:
    """Answers 500 to the first `failures` requests, then 200 to those correctly signed."""
    receiver = Receiver(app, failures)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.requests += 1
                failing = receiver.requests <= receiver.failures
            if failing:
                self.send_response(500)
                self.end_headers()
                return
            try:
                checked = receiver.validator.validate_webhook(
                    self.headers["X-Pusher-Key"], self.headers["X-Pusher-Signature"], body.decode()
                )
            except Exception:
                checked = None
            if checked is None:
                with receiver.lock:
                    receiver.bad_signatures += 1
                self.send_response(401)
                self.end_headers()
                return
            with receiver.lock:
                receiver.events.extend(json.loads(body)["events"])
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def set_webhooks(stack: Any, app: PusherApp, url: str, *event_types: str) -> None:
    hooks = [{"url": url, "event_types": list(event_types)}]
    stack.cli("apps", "set", app.app_id, "--webhooks", json.dumps(hooks))
