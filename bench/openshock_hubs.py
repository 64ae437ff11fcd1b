"""OpenShock control through REST until the hub has it: POST /2/shockers/control with an API
token, until its ShockerCommandList arrives on the hub's /2/ws/hub socket.

python -m bench.openshock_hubs [--postgres URL [--kafka HOST:PORT]] [--count N]
                               [--rate R --seconds S --connections C]

One account, one hub of one shocker (made over REST and paired as a hub pairs), the hub
connected with the current FlatBuffers schema (bench/openshock_load_hubs.py) and online
(its first Pong) before the first control. Each request is one item, `Vibrate` at 50, whose
duration (300 + n ms) says which request a command list answers; the token holds
shockers.use alone. Latency runs from the request's send (sequential) or from when it was
due (offered rate, open loop as in bench/notification_latency.py: queueing in the server or
behind a busy connection pool shows in the figure) until the hub's frame arrived, stamped on
the same clock in the same process.

Anchor, same run, same client: the bare FastAPI app's POST /2/shockers/control
(bench/bare_app.py: parses the body, reads the items and the token header, answers 200) under
`hubline serve`'s uvicorn configuration, sequential and at the same offered rate; its figure
is the HTTP round trip alone, with no store, no log and no hub. Second anchor, after it: the
store's raw durable append of one row per transaction (bench/anchors.py), the floor of a
control that is stored before it is sent. Server CPU per control is
`serve`'s (and the relay's and worker's, distributed) user + system time over the offered
run, divided by the requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from bench.anchors import raw_postgres_rows_per_second, raw_sqlite_rows_per_second
from bench.bare_app import running_bare_app
from bench.deployments import add_deployment_arguments, deployment_name, running_deployment
from bench.openshock_control import deployment_processes
from bench.openshock_load_hubs import (
    LIMITS_OFF,
    BareHttp,
    LoadHub,
    connect_hub,
    p99,
    paired_hubs,
    percentiles,
    wait_online,
)
from bench.process_cpu import cpu_seconds
from gateways.openshock import hub_frames

INTENSITY = 50
FIRST_DURATION = 300  # the request n is sent with duration FIRST_DURATION + n


@dataclass
class Run:
    # Seconds from send (or due) to the hub's frame; for the anchor, to the answer.
    latencies: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    missing: int = 0
    elapsed: float = 0.0
    # Microseconds of CPU per request, by process (offered runs).
    cpu_us: dict[str, float] = field(default_factory=dict)


Post = Callable[[BareHttp, int], Awaitable[int]]


def control_body(shocker_id: str, n: int) -> bytes:
    item = {"id": shocker_id, "type": "Vibrate", "intensity": INTENSITY,
            "duration": FIRST_DURATION + n}  # fmt: skip
    return orjson.dumps({"shocks": [item]})


def poster(shocker_id: str, token: str) -> Post:
    headers = {"OpenShockToken": token, "User-Agent": "hubline-bench"}

    async def post(http: BareHttp, n: int) -> int:
        status, _ = await http.post("/2/shockers/control", control_body(shocker_id, n), headers)
        return status

    return post


class Arrivals:
    """When each request's command list reached the hub, by request number."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self._waiting: dict[int, asyncio.Future[float]] = {}

    def on_commands(self, message: hub_frames.GatewayCommands, arrived: float) -> None:
        for command in message.commands:
            n = command.duration - FIRST_DURATION
            self.at[n] = arrived
            waiter = self._waiting.pop(n, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(arrived)

    def arrived(self, n: int) -> asyncio.Future[float]:
        """Done when the request n's command list arrived (at once if it did)."""
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if n in self.at:
            waiter.set_result(self.at[n])
        else:
            self._waiting[n] = waiter
        return waiter


async def sequential(url: str, post: Post, count: int, arrivals: Arrivals | None) -> Run:
    run = Run()
    http = await BareHttp.open(url)
    try:
        for n in range(count):
            sent = time.perf_counter()
            status = await post(http, n)
            answered = time.perf_counter()
            run.answers.append(answered - sent)
            run.sent += 1
            if status != 200:
                run.failed += 1
                continue
            if arrivals is None:
                run.latencies.append(answered - sent)
            else:
                async with asyncio.timeout(30):
                    run.latencies.append(await arrivals.arrived(n) - sent)
    finally:
        http.close()
    return run


async def offered(
    url: str,
    post: Post,
    first: int,
    rate: float,
    seconds: float,
    connections: int,
    arrivals: Arrivals | None,
    pids: dict[str, int],
) -> Run:
    run = Run()
    total = int(rate * seconds)
    due: dict[int, float] = {}
    answered: dict[int, float] = {}
    queue: asyncio.Queue[int | None] = asyncio.Queue()

    async def sender() -> None:
        http = await BareHttp.open(url)
        try:
            while (n := await queue.get()) is not None:
                status = await post(http, n)
                answered[n] = time.perf_counter()
                if status != 200:
                    run.failed += 1
        finally:
            http.close()

    senders = [asyncio.create_task(sender()) for _ in range(connections)]
    await asyncio.sleep(0.2)  # the connections are open before the clock starts
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    start = time.perf_counter()
    for n in range(first, first + total):
        at = start + (n - first) / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due[n] = at
        queue.put_nowait(n)
    for _ in senders:
        queue.put_nowait(None)
    await asyncio.gather(*senders)
    run.elapsed = time.perf_counter() - start
    if arrivals is not None:
        await asyncio.wait([arrivals.arrived(n) for n in due], timeout=30)
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    run.cpu_us = {name: s * 1e6 / max(total, 1) for name, s in cpu.items()}
    arrived = arrivals.at if arrivals is not None else answered
    run.latencies = [arrived[n] - due[n] for n in due if n in arrived]
    run.answers = [answered[n] - due[n] for n in due if n in answered]
    run.sent, run.missing = total, total - len(run.latencies)
    return run


async def through_hub(url: str, args: argparse.Namespace) -> tuple[Run, Run]:
    paired = (await asyncio.to_thread(paired_hubs, url, 1))[0]
    token, _ = await asyncio.to_thread(paired.owner.token, ["shockers.use"])
    arrivals = Arrivals()
    hub: LoadHub = await connect_hub(url, paired.token, arrivals.on_commands)
    reading = asyncio.create_task(hub.run())
    await asyncio.wait_for(hub.online.wait(), 60)
    await asyncio.to_thread(wait_online, url, [(paired.hub_id, paired.owner.headers)])
    post = poster(paired.shocker_id, token)
    await sequential(url, post, 20, arrivals)  # warm-up
    arrivals.at.clear()
    pids = deployment_processes()
    one_by_one = await sequential(url, post, args.count, arrivals)
    at_rate = await offered(
        url, post, args.count, args.rate, args.seconds, args.connections, arrivals, pids
    )
    if hub.closed_with is not None:
        sys.exit(f"the hub was closed ({hub.closed_with}) during the run")
    await hub.socket.close()
    await reading
    return one_by_one, at_rate


async def bare(url: str, pid: int, args: argparse.Namespace) -> tuple[Run, Run]:
    post = poster("00000000-0000-0000-0000-000000000000", "bench-token")
    await sequential(url, post, 20, None)
    one_by_one = await sequential(url, post, args.count, None)
    at_rate = await offered(
        url, post, args.count, args.rate, args.seconds, args.connections, None, {"bare": pid}
    )
    return one_by_one, at_rate


def describe_cpu(run: Run) -> str:
    return ", ".join(f"{name} {us:,.0f}" for name, us in run.cpu_us.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--count", type=int, default=300, help="sequential requests")
    parser.add_argument("--rate", type=float, default=200.0, help="offered requests/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to offer --rate")
    parser.add_argument("--connections", type=int, default=16, help="HTTP connections at --rate")
    args = parser.parse_args()
    if args.count + args.rate * args.seconds > 65_535 - FIRST_DURATION:
        sys.exit("too many requests: each needs a duration of its own (at most 65,535 ms)")
    started = time.strftime("%H:%M:%S", time.gmtime())
    load_before = os.getloadavg()[0]
    with running_deployment(args, LIMITS_OFF) as deployment:
        seq, rate = asyncio.run(through_hub(deployment.server.url, args))
    with running_bare_app() as app:
        bare_seq, bare_rate = asyncio.run(bare(app.url, app.pid, args))
    store = "PostgreSQL" if args.postgres else "SQLite"
    commits = (
        raw_postgres_rows_per_second(args.postgres, 1, 3)
        if args.postgres
        else raw_sqlite_rows_per_second(1, 3)
    )
    print(
        f"deployment: {deployment_name(args)}; started {started} UTC;"
        f" load {load_before:.2f} -> {os.getloadavg()[0]:.2f}"
    )
    print(f"sequential, {args.count} controls, REST -> hub: {percentiles(seq.latencies)}")
    print(f"  of which the REST answer: {percentiles(seq.answers)}")
    print(f"  anchor, bare app round trip: {percentiles(bare_seq.latencies)}")
    print(
        f"  hubline/bare: p50 {ratio_of(seq.latencies, bare_seq.latencies, 0.5)},"
        f" p99 {p99(seq.latencies) / p99(bare_seq.latencies):.2f} x"
    )
    print(
        f"offered {args.rate:.0f}/s for {args.seconds:.0f} s on {args.connections} connections:"
        f" sent {rate.sent} in {rate.elapsed:.1f} s, {rate.failed} not 200,"
        f" {rate.missing} command lists missing"
    )
    print(
        f"  REST -> hub: {percentiles(rate.latencies)}; server CPU µs/control: {describe_cpu(rate)}"
    )
    print(f"  of which the REST answer: {percentiles(rate.answers)}")
    print(
        f"  anchor, bare app round trip: {percentiles(bare_rate.latencies)};"
        f" CPU µs/request {describe_cpu(bare_rate)}; {bare_rate.failed} not 200"
    )
    print(
        f"  hubline/bare: p50 {ratio_of(rate.latencies, bare_rate.latencies, 0.5)},"
        f" p99 {p99(rate.latencies) / p99(bare_rate.latencies):.2f} x"
    )
    print(
        f"anchor, the store's raw append ({store}, bench/anchors.py), one row per transaction:"
        f" {commits:,.0f} commits/s, {1000 / commits:.2f} ms each"
    )
    if seq.failed or rate.failed or seq.missing or rate.missing:
        sys.exit("some controls were not answered 200 or never reached the hub")


def ratio_of(figure: list[float], anchor: list[float], quantile: float) -> str:
    a, b = sorted(figure), sorted(anchor)
    return f"{a[int(len(a) * quantile)] / b[int(len(b) * quantile)]:.2f} x"


if __name__ == "__main__":
    main()
