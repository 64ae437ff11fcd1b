"""Server memory per idle /api/v1/ws connection, beside a bare uvicorn websocket server.

python -m bench.idle_websockets [--clients N] [--postgres URL [--kafka HOST:PORT]]

Anchor, measured in the same run: the same number of idle connections to a websocket app
that only accepts and waits, under uvicorn with the same websocket options (no
permessage-deflate). Memory is the server process's VmRSS, from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.deployments import add_deployment_arguments, deployment_name, running_deployment
from tests.conftest import free_port


def resident_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))


async def idle_connections(url: str, clients: int, pid: int) -> tuple[int, int]:
    """The server's VmRSS before and with `clients` idle connections (KiB)."""
    async with websockets.connect(url, compression=None):
        pass  # the first connection imports and warms what every later one uses
    await asyncio.sleep(1)
    before = resident_kib(pid)
    opened: list[Any] = []
    for start in range(0, clients, 100):
        opened += await asyncio.gather(
            *(
                websockets.connect(url, compression=None, open_timeout=60)
                for _ in range(min(100, clients - start))
            )
        )
    await asyncio.sleep(3)
    connected = resident_kib(pid)
    await asyncio.gather(*(ws.close() for ws in opened))
    return before, connected


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":  # the readiness probe
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


def serve_bare(port: int) -> None:
    import uvicorn

    uvicorn.run(bare_app, port=port, log_level="warning", ws_per_message_deflate=False)


def bare_anchor(clients: int) -> tuple[int, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.idle_websockets", "--serve-bare", str(port)]
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        return asyncio.run(idle_connections(f"ws://127.0.0.1:{port}/", clients, process.pid))
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    bare_before, bare_connected = bare_anchor(args.clients)
    with running_deployment(args) as deployment:
        server = deployment.server
        assert server.process is not None
        token = deployment.cli(
            "tokens", "create", "--name", "bench", "--permissions", "deviceAuth:read"
        ).splitlines()[-1]
        url = f"{server.ws_url}/api/v1/ws?token={token}"
        before, connected = asyncio.run(idle_connections(url, args.clients, server.process.pid))
    per_connection = (connected - before) / args.clients
    bare_per_connection = (bare_connected - bare_before) / args.clients
    print(f"deployment: {deployment_name(args)}")
    print(
        f"/api/v1/ws, {args.clients} idle connections: {before / 1024:,.0f} MiB before,"
        f" {connected / 1024:,.0f} MiB connected: {per_connection:,.1f} KiB each"
    )
    print(
        f"anchor, bare uvicorn websocket app: {bare_before / 1024:,.0f} MiB before,"
        f" {bare_connected / 1024:,.0f} MiB connected: {bare_per_connection:,.1f} KiB each;"
        f" hubline/bare {per_connection / bare_per_connection:.2f}"
    )


if __name__ == "__main__":
    main()
