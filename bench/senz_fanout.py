"""SENZ: Notify fan-out to many SignalR clients, and mode-change commands/s through REST.

python -m bench.senz_fanout [--postgres URL --kafka HOST:PORT] [--clients 1000] [--changes 20]
    [--seconds 20] [--thermostats 1] [--in-flight 50]

The mode changes (PUT /api/v1/Mode/manual with an OAuth access token, rate limits on but set
too high to refuse) are printed beside their anchor, measured in the same run: the bare
FastAPI app's route of the same shape (bench/bare_app.py) under the same uvicorn
configuration and wrk script, and the ratio. `--clients 0` runs only the mode changes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import httpx
import websockets

from bench.anchors import ratio
from bench.bare_app import running_bare_app
from bench.deployments import add_deployment_arguments, deployment_name, running_deployment
from bench.wrk_runs import WrkFigures, run_wrk, wrk_available
from tests.e2e.server import Server

PASSWORD = "correct horse battery staple"
OWNER = "bench@example.com"
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
    rss_before = resident_kib(server)
    tasks = [
        asyncio.create_task(subscriber(hub_url, token, ready, arrivals, counter, clients))
        for _ in range(clients)
    ]
    await asyncio.wait_for(ready.wait(), 120)
    rss_connected = resident_kib(server)
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
    print(
        f"server memory: {rss_before / 1024:,.0f} MiB before, {rss_connected / 1024:,.0f} MiB "
        f"with {clients} subscribed connections "
        f"({(rss_connected - rss_before) / clients:,.1f} KiB each)"
    )


def resident_kib(server: Server) -> int:
    """The serve process's resident set (VmRSS), from /proc."""
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))


def wrk_mode_changes(
    url: str, token: str, serials: list[str], seconds: float, in_flight: int
) -> WrkFigures:
    """PUT /Mode/manual with wrk (bench/senz_mode_changes.lua), one thread: a Python client
    saturates a core before the server does, and a second wrk thread takes the server's."""
    return run_wrk(
        Path(__file__).with_name("senz_mode_changes.lua"),
        url,
        {"TOKEN": token, "SERIALS": ",".join(serials)},
        seconds,
        in_flight,
        unit="commands",
    )


def commands(server: Server, token: str, serials: list[str], seconds: int, in_flight: int) -> None:
    """Mode changes through REST under wrk, beside the bare app's route of the same shape
    (bench/bare_app.py) driven by the same script in the same run; one second of warm-up
    each."""
    if not wrk_available():
        print("mode changes: skipped, wrk is not installed (apt-get install wrk)")
        return
    wrk_mode_changes(server.url, token, serials, 1, in_flight)
    hubline = wrk_mode_changes(server.url, token, serials, seconds, in_flight)
    with running_bare_app() as bare:
        wrk_mode_changes(bare.url, "bench-token", serials, 1, in_flight)
        anchor = wrk_mode_changes(bare.url, "bench-token", serials, seconds, in_flight)
    print(
        f"mode changes through REST on {len(serials)} thermostat(s), {in_flight} in flight: "
        f"{hubline.describe()}"
    )
    print(f"anchor, bare FastAPI app, PUT /api/v1/Mode/{{mode}}: {anchor.describe()}")
    print(
        f"hubline/bare: {ratio(hubline.requests_per_second, anchor.requests_per_second)} "
        f"requests/s; p99 {hubline.p99_ms:.1f} vs {anchor.p99_ms:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--clients", type=int, default=1000, help="0 skips the fan-out")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=20, help="how long to send mode changes")
    parser.add_argument("--thermostats", type=int, default=1, help="commands spread over these")
    parser.add_argument("--in-flight", type=int, default=50)
    args = parser.parse_args()
    env = {"HUBLINE_RATE_LIMIT_RULES": "1000000/1s"}  # measure the system, not the limiter
    with running_deployment(args, env) as deployment:
        deployment.cli("users", "create", "--email", OWNER, "--name", "B", stdin=PASSWORD + "\n")
        serials = [f"BENCH{n}" for n in range(1, args.thermostats + 1)]
        for serial in serials:
            deployment.cli("thermostats", "add", "--serial", serial, "--owner", OWNER)
        client = json.loads(
            deployment.cli(
                "clients",
                "create",
                "--name",
                "bench",
                "--grant-types",
                "password",
                "--scopes",
                "openid restapi",
            )
        )
        server = deployment.server
        token = httpx.post(
            f"{server.url}/connect/token",
            auth=(client["client_id"], client["client_secret"]),
            data={
                "grant_type": "password",
                "username": OWNER,
                "password": PASSWORD,
                "scope": "openid restapi",
            },
        ).json()["access_token"]
        print(f"deployment: {deployment_name(args)}")
        if args.clients:
            asyncio.run(fan_out(server, token, serials[0], args.clients, args.changes))
        commands(server, token, serials, args.seconds, args.in_flight)


if __name__ == "__main__":
    main()
