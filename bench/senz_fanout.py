"""SENZ: Notify fan-out to many SignalR clients, and mode-change commands/s through REST.

python -m bench.senz_fanout [--clients 1000] [--changes 20] [--commands 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import websockets

from tests.conftest import free_port
from tests.e2e.server import Server, hubline

PASSWORD = "correct horse battery staple"
RS = "\x1e"


all_arrived = asyncio.Event()


async def subscriber(
    url: str,
    token: str,
    ready: asyncio.Event,
    arrivals: list[float],
    counter: list[int],
    total: int,
) -> None:
    async with websockets.connect(f"{url}?access_token={token}", max_queue=None) as ws:
        await ws.send('{"protocol":"json","version":1}' + RS)
        await ws.recv()
        await ws.send(
            json.dumps(
                {"type": 1, "invocationId": "1", "target": "Subscribe", "arguments": [["2"]]}
            )
            + RS
        )
        await ws.recv()
        counter[0] += 1
        if counter[0] == total:
            ready.set()
        while True:
            for part in str(await ws.recv()).split(RS):
                if part and json.loads(part).get("target") == "Notify":
                    arrivals.append(time.perf_counter())
                    if len(arrivals) == total:
                        all_arrived.set()


async def fan_out(server: Server, token: str, serial: str, clients: int, changes: int) -> None:
    hub_url = f"{server.ws_url}/v1/changenotifications"
    ready = asyncio.Event()
    arrivals: list[float] = []
    counter = [0]
    tasks = [
        asyncio.create_task(subscriber(hub_url, token, ready, arrivals, counter, clients))
        for _ in range(clients)
    ]
    await asyncio.wait_for(ready.wait(), 120)
    latencies: list[float] = []
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        started_all = time.perf_counter()
        for n in range(changes):
            arrivals.clear()
            all_arrived.clear()
            sent = time.perf_counter()
            response = await http.put(
                "/api/v1/Mode/manual", json={"serialNumber": serial, "temperature": 1800 + n}
            )
            response.raise_for_status()
            await asyncio.wait_for(all_arrived.wait(), 30)
            latencies += [a - sent for a in arrivals]
        elapsed = time.perf_counter() - started_all
    for task in tasks:
        task.cancel()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"Notify fan-out to {clients} clients: {len(latencies) / elapsed:,.0f} notifications/s "
        f"delivered; REST command to delivery p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )


async def commands(server: Server, token: str, serial: str, count: int, concurrency: int) -> None:
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        base_url=server.url,
        headers={"Authorization": f"Bearer {token}"},
        limits=httpx.Limits(max_connections=concurrency),
    ) as http:

        async def one(n: int) -> None:
            async with semaphore:
                response = await http.put(
                    "/api/v1/Mode/manual",
                    json={"serialNumber": serial, "temperature": 1500 + n % 100},
                )
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        elapsed = time.perf_counter() - started
    print(f"mode changes through REST, {concurrency} in flight: {count / elapsed:,.0f} commands/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--commands", type=int, default=500)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hubline-bench-"))
    flags = ["--data-dir", str(root / "data")]
    port = free_port()
    env = {"HUBLINE_RATE_LIMIT_RULES": "1000000/1s"}  # measure the system, not the limiter
    server = Server(
        "serve",
        ["serve", "--port", str(port), "--log-level", "warning", *flags],
        root / "serve.log",
        env=env,
        port=port,
    )
    server.start()
    try:
        hubline(
            "users",
            "create",
            "--email",
            "bench@example.com",
            "--name",
            "B",
            *flags,
            stdin=PASSWORD + "\n",
        )
        hubline("thermostats", "add", "--serial", "BENCH1", "--owner", "bench@example.com", *flags)
        client = json.loads(
            hubline(
                "clients",
                "create",
                "--name",
                "bench",
                "--grant-types",
                "password",
                "--scopes",
                "openid restapi",
                *flags,
            ).stdout
        )
        token = httpx.post(
            f"{server.url}/connect/token",
            auth=(client["client_id"], client["client_secret"]),
            data={
                "grant_type": "password",
                "username": "bench@example.com",
                "password": PASSWORD,
                "scope": "openid restapi",
            },
        ).json()["access_token"]
        asyncio.run(fan_out(server, token, "BENCH1", args.clients, args.changes))
        asyncio.run(commands(server, token, "BENCH1", args.commands, 50))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
