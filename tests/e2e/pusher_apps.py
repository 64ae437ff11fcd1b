"""Pusher apps for e2e tests: created through `hubline apps`, an auth endpoint that signs
with the `pusher` PyPI library (as an app's backend would), and raw sockets for bad input."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pusher
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import Stack
from tests.e2e.server import Server

# The backends' end-to-end key for private-encrypted- channels (the server never sees it).
ENCRYPTION_MASTER_KEY = base64.b64encode(b"hubline e2e encrypted channel k!").decode()


@dataclass(frozen=True)
class PusherApp:
    app_id: str
    key: str
    secret: str

    def backend(self, stack: Stack) -> pusher.Pusher:
        """The app's server side: the official library pointed at Hubline."""
        port = int(stack.url.rsplit(":", 1)[1])
        return pusher.Pusher(
            app_id=self.app_id, key=self.key, secret=self.secret, ssl=False,
            host="127.0.0.1", port=port, encryption_master_key_base64=ENCRYPTION_MASTER_KEY,
        )  # fmt: skip


def create_app(stack: Stack, *limits: str) -> PusherApp:
    """A new app; `limits` are `NAME=VALUE` as `hubline apps set --limit` takes them."""
    created = json.loads(
        stack.cli("apps", "create", "--name", f"e2e-{uuid.uuid4().hex[:8]}").stdout.strip()
    )
    app = PusherApp(created["app_id"], created["key"], created["secret"])
    if limits:
        stack.cli("apps", "set", app.app_id, *(f"--limit={limit}" for limit in limits))
    wait_until_served(stack, app)
    return app


def wait_until_served(stack: Stack | Server, app: PusherApp) -> None:
    """The CLI wrote the app beside the server, which learns its key within a second or so
    (its log timer): until then a socket is refused as an unknown app."""
    deadline = time.monotonic() + 15
    while True:
        socket = RawSocket(stack, app.key)
        try:
            first = socket.recv()
        finally:
            socket.close()
        if first["event"] == "pusher:connection_established":
            return
        assert first["data"]["code"] == 4001 and time.monotonic() < deadline, first
        time.sleep(0.1)


def user_data(user: str) -> dict[str, Any]:
    """What a presence member says of itself (Pysher sends json.dumps of exactly this)."""
    return {"user_id": user, "user_info": {"name": f"user {user}"}}


@contextmanager
def auth_endpoint(app: PusherApp) -> Iterator[str]:
    """An app backend's auth endpoint, signing with `pusher`'s authenticate helpers.

    JSON bodies (our pusher-js script): {kind: channel|user, socket_id, channel, user}.
    Form bodies (Pysher, user in the path /pysher/<user>): channel_name, socket_id.
    """
    signer = pusher.Pusher(
        app_id=app.app_id, key=app.key, secret=app.secret,
        encryption_master_key_base64=ENCRYPTION_MASTER_KEY,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.startswith("/pysher/"):
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                user = self.path.removeprefix("/pysher/")
                request = {
                    "kind": "channel",
                    "socket_id": form["socket_id"],
                    "channel": form["channel_name"],
                    "user": user,
                }
            else:
                request = json.loads(body)
            if request["kind"] == "user":
                user = {"id": request["user"]}
                if request.get("watchlist"):
                    user["watchlist"] = request["watchlist"]
                answer = signer.authenticate_user(request["socket_id"], user)
            else:
                channel = request["channel"]
                custom = user_data(request["user"]) if channel.startswith("presence-") else None
                answer = signer.authenticate(channel, request["socket_id"], custom)
            if isinstance(answer.get("shared_secret"), bytes):
                # The library hands the encrypted channel's key out as base64 bytes.
                answer["shared_secret"] = answer["shared_secret"].decode()
            encoded = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class RawSocket:
    """A Pusher socket spoken to frame by frame, for what real clients would never send."""

    def __init__(
        self, stack: Stack | Server, key: str, query: str = "protocol=7&client=js&version=8.6.0"
    ):
        self.ws: ClientConnection = connect(
            f"{stack.ws_url}/app/{key}?{query}", open_timeout=10, max_size=None,
            ping_interval=None,
        ).__enter__()  # fmt: skip
        self.socket_id = ""

    def established(self) -> RawSocket:
        first = self.recv()
        assert first["event"] == "pusher:connection_established", first
        data = json.loads(first["data"])
        assert data["activity_timeout"] == 120
        self.socket_id = data["socket_id"]
        return self

    def send(self, frame: dict[str, Any] | str | bytes) -> None:
        self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    def recv(self, timeout: float = 10) -> dict[str, Any]:
        frame = json.loads(self.ws.recv(timeout=timeout))
        assert isinstance(frame, dict)
        return frame

    def subscribe(
        self, channel: str, auth: str | None = None, channel_data: str | None = None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"channel": channel}
        if auth is not None:
            data["auth"] = auth
        if channel_data is not None:
            data["channel_data"] = channel_data
        self.send({"event": "pusher:subscribe", "data": data})
        return self.recv()

    def ping(self) -> None:
        """The connection carries on: a ping is still answered."""
        self.send({"event": "pusher:ping", "data": {}})
        assert self.recv()["event"] == "pusher:pong"

    def close(self) -> None:
        self.ws.close()
