"""Pusher's own clients against `hubline serve`: pusher-js (protocol 7, in Node) and Pysher
(protocol 6), with channel auth signed by the `pusher` library and triggers sent with it."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.pusher_apps import PusherApp, auth_endpoint, create_app, user_data
from tests.e2e.pysher_recorder import RecordingPysher

JS_CLIENTS = Path(__file__).parent / "js"


def _node_lines(process: subprocess.Popen[str]) -> queue.Queue[dict[str, Any] | None]:
    lines: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("{"):
                lines.put(json.loads(line))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _until(
    lines: queue.Queue[dict[str, Any] | None], step: str, process: subprocess.Popen[str]
) -> dict[str, Any]:
    seen = []
    while True:
        try:
            line = lines.get(timeout=45)
        except queue.Empty:
            line = None
        if line is None:
            process.kill()
            _, errors = process.communicate(timeout=10)
            raise AssertionError(f"pusher-js stopped before {step!r}; steps {seen}:\n{errors}")
        seen.append(line["step"])
        if line["step"] == step:
            return line


def test_pusher_js(stack: Stack) -> None:
    if shutil.which("node") is None or not (JS_CLIENTS / "node_modules" / "pusher-js").exists():
        pytest.fail("node and tests/e2e/js/node_modules are needed: run `make js-clients`")
    app = create_app(stack, "subscription_count_events=true")
    suffix = uuid.uuid4().hex[:8]
    port = int(stack.ws_url.rsplit(":", 1)[1])
    with auth_endpoint(app) as auth_url:
        config = {
            "key": app.key,
            "host": "127.0.0.1",
            "port": port,
            "authUrl": auth_url,
            "suffix": suffix,
        }
        process = subprocess.Popen(
            ["node", str(JS_CLIENTS / "pusher_clients.mjs"), json.dumps(config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=JS_CLIENTS,
        )  # fmt: skip
        try:
            lines = _node_lines(process)
            assert _until(lines, "member_added", process)["count"] == 2
            assert _until(lines, "subscription_count", process)["count"] == 2
            assert _until(lines, "client_event", process) == {"step": "client_event", "n": 1}
            assert _until(lines, "client_event_user_id", process)["user_id"] == "b"
            assert _until(lines, "client_event_refused", process)["code"] == 4301
            assert _until(lines, "signed_in", process)["id"] == "a"
            assert _until(lines, "watchlist_offline", process)["user_ids"] == ["b"]
            assert _until(lines, "watchlist_online", process)["user_ids"] == ["b"]
            _until(lines, "cache_miss", process)
            _until(lines, "READY", process)
            backend = app.backend(stack)
            backend.trigger(f"cache-{suffix}", "cached-evt", {"hello": "cache"})
            backend.trigger(f"public-{suffix}", "server-evt", {"hello": "public"})
            backend.send_to_user("a", "user-evt", {"hello": "a"})
            backend.trigger(f"private-encrypted-{suffix}", "secret-evt", {"hello": "encrypted"})
            assert _until(lines, "server_event", process)["data"] == {"hello": "public"}
            assert _until(lines, "user_event", process)["data"] == {"hello": "a"}
            assert _until(lines, "encrypted_event", process)["data"] == {"hello": "encrypted"}
            assert _until(lines, "cache_replayed", process)["data"] == {"hello": "cache"}
            assert _until(lines, "member_removed", process)["id"] == "b"
            assert _until(lines, "watchlist_offline_again", process)["user_ids"] == ["b"]
            _until(lines, "DONE", process)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()


def _pysher(stack: Stack, app: PusherApp, auth_url: str, user: str) -> RecordingPysher:
    port = int(stack.ws_url.rsplit(":", 1)[1])
    return RecordingPysher(
        port, app.key, auth_endpoint=f"{auth_url}/pysher/{user}", user_data=user_data(user)
    )


def test_pysher(stack: Stack) -> None:
    app = create_app(stack)
    suffix = uuid.uuid4().hex[:8]
    public, private, presence = (f"{kind}{suffix}" for kind in ("public-", "private-", "presence-"))
    with auth_endpoint(app) as auth_url:
        alice, bob = (_pysher(stack, app, auth_url, user) for user in ("alice", "bob"))
        try:
            for channel in (public, private):
                alice.subscribe(channel)
                assert alice.next(channel, "pusher_internal:subscription_succeeded") == "{}"
            alice.subscribe(presence)
            first = json.loads(alice.next(presence, "pusher_internal:subscription_succeeded"))
            assert first["presence"]["ids"] == ["alice"]
            bob.subscribe(presence)
            members = json.loads(bob.next(presence, "pusher_internal:subscription_succeeded"))
            assert sorted(members["presence"]["ids"]) == ["alice", "bob"]
            assert members["presence"]["hash"]["alice"] == {"name": "user alice"}
            added = json.loads(alice.next(presence, "pusher_internal:member_added"))
            assert added == {"user_id": "bob", "user_info": {"name": "user bob"}}

            backend = app.backend(stack)
            backend.trigger([public, private], "news", {"n": 1})
            assert json.loads(alice.next(public, "news")) == {"n": 1}
            assert json.loads(alice.next(private, "news")) == {"n": 1}

            bob.disconnect()
            removed = json.loads(alice.next(presence, "pusher_internal:member_removed"))
            assert removed == {"user_id": "bob"}
        finally:
            alice.disconnect()
            bob.disconnect()
