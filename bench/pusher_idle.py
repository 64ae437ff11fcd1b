"""Server memory per idle, subscribed Pusher socket, beside a bare uvicorn websocket server.

python -m bench.pusher_idle [--clients N] [--postgres URL [--kafka HOST:PORT]]

Each client connects to /app/{key}?protocol=7, waits for connection_established and joins
one of ten public channels, then stays silent. Anchor, measured in the same run: as many
idle connections to a websocket app that only accepts and waits, under uvicorn with the same
websocket options (bench/idle_websockets.py). Memory is the server process's VmRSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import websockets

from bench.deployments import add_deployment_arguments, deployment_name, running_deployment
from bench.idle_websockets import bare_anchor, resident_kib

CHANNELS = 10


async def _subscribed(url: str, channel: str) -> Any:
    socket = await websockets.connect(url, compression=None, open_timeout=60)
    established = json.loads(await socket.recv())
    if established["event"] != "pusher:connection_established":
        raise RuntimeError(f"refused: {established}")
    await socket.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel}}))
    answer = json.loads(await socket.recv())
    if answer["event"] != "pusher_internal:subscription_succeeded":
        raise RuntimeError(f"not subscribed: {answer}")
    return socket


async def idle_sockets(url: str, clients: int, pid: int) -> tuple[int, int]:
    """The server's VmRSS before and with `clients` idle subscribed sockets (KiB)."""
    deadline = time.monotonic() + 15
    while True:  # the server learns a new app within a second or so
        try:
            await (await _subscribed(url, "warm-up")).close()
            break
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    await asyncio.sleep(1)
    before = resident_kib(pid)
    opened: list[Any] = []
    for start in range(0, clients, 100):
        opened += await asyncio.gather(
            *(
                _subscribed(url, f"idle-{n % CHANNELS}")
                for n in range(start, min(start + 100, clients))
            )
        )
    await asyncio.sleep(3)
    connected = resident_kib(pid)
    await asyncio.gather(*(ws.close() for ws in opened))
    return before, connected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--clients", type=int, default=1000)
    args = parser.parse_args()
    bare_before, bare_connected = bare_anchor(args.clients)
    with running_deployment(args) as deployment:
        server = deployment.server
        assert server.process is not None
        app = json.loads(deployment.cli("apps", "create", "--name", "bench-idle").strip())
        url = f"{server.ws_url}/app/{app['key']}?protocol=7&client=bench&version=1"
        before, connected = asyncio.run(idle_sockets(url, args.clients, server.process.pid))
    per_socket = (connected - before) / args.clients
    bare = (bare_connected - bare_before) / args.clients
    print(f"deployment: {deployment_name(args)}")
    print(
        f"/app/{{key}}, {args.clients} idle subscribed sockets: {before / 1024:,.0f} MiB before,"
        f" {connected / 1024:,.0f} MiB connected: {per_socket:,.1f} KiB each"
    )
    print(
        f"anchor, bare uvicorn websocket app: {bare:,.1f} KiB each;"
        f" hubline/bare {per_socket / bare:.2f}; hubline over bare {per_socket - bare:,.1f} KiB"
    )


if __name__ == "__main__":
    main()
