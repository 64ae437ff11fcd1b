"""OpenShock live control under load: C clients at T frames a second, each on its own hub's
/1/ws/live/{hubId}?tps=T, until the ticks reach the hubs.

python -m bench.openshock_live [--postgres URL [--kafka HOST:PORT]] [--clients C] [--tps T]
                               [--seconds S]

Set-up over REST: C hubs of one shocker each, 4 to an account (bench/openshock_load_hubs.py),
each connected on /2/ws/hub with the current FlatBuffers schema and online before the
clients connect; each client holds its hub owner's API token. Client c sends
{"RequestType":"Frame","Data":{"Shocker":…,"Intensity":i,"Type":"Vibrate"}} every 1/T s, its
phase spread over the interval, i cycling 1..100 so that a command list says which frame it
carries; every client answers the server's Pings. All on one asyncio loop in this process.

Figures over the S measured seconds (after 2 s of warm-up):
- ticks: command lists that reached the hubs, against one per hub per 200 ms; missed, a
  hub's shortfall against one per 200 ms between its first and last list; late, a list more
  than 300 ms after the hub's previous one (its tick came late); the gaps' p50/p99 show the
  ticks' regularity;
- frame -> hub: from a frame's send until the first command list carrying its intensity
  arrived (a frame superseded by the next before any tick is not counted: with T = 10 a tick
  carries every other frame). The tick period bounds it below: waiting for the next tick is
  0-200 ms;
- server CPU (user + system from /proc; `serve`, plus `relay` and `project` distributed)
  over the window, divided by the frames sent, and (the same CPU again) by the command lists
  received: two views of one cost, not parts of it.

Anchor, same run, same client: a bare FastAPI app of the same shape under `hubline serve`'s
uvicorn configuration (bench/openshock_live_bare.py): frames read into memory and one command
list per hub every 200 ms, with no store, log or checks.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import orjson
import websockets
from websockets.exceptions import ConnectionClosed

from bench.deployments import add_deployment_arguments, deployment_name, running_deployment
from bench.openshock_control import deployment_processes
from bench.openshock_load_hubs import (
    LIMITS_OFF,
    LoadHub,
    connect_hub,
    paired_hubs,
    percentiles,
    wait_online,
)
from bench.process_cpu import cpu_seconds
from gateways.openshock import hub_frames
from tests.conftest import free_port
from tests.e2e.server import ROOT

TICK_SECONDS = 0.2
WARM_UP_SECONDS = 2.0


@dataclass(frozen=True)
class Target:
    hub_id: str
    shocker_id: str
    hub_token: str
    live_headers: dict[str, str]


@dataclass
class HubRecord:
    """What one hub received, and when each intensity was last sent to it."""

    arrivals: list[float] = field(default_factory=list)
    sent: dict[int, float] = field(default_factory=dict)
    credited: set[int] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)

    def on_commands(self, message: hub_frames.GatewayCommands, arrived: float) -> None:
        self.arrivals.append(arrived)
        for command in message.commands:
            sent = self.sent.get(command.intensity)
            if sent is not None and command.intensity not in self.credited and sent < arrived:
                self.credited.add(command.intensity)
                self.latencies.append(arrived - sent)

    def frame_sent(self, intensity: int, at: float) -> None:
        self.sent[intensity] = at
        self.credited.discard(intensity)


@dataclass
class Outcome:
    frames: int = 0
    refusals: int = 0
    ticks: int = 0
    expected_ticks: int = 0
    missed_ticks: int = 0
    late_ticks: int = 0
    gaps: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    frames_seen: int = 0
    cpu_us_per_frame: dict[str, float] = field(default_factory=dict)
    cpu_us_per_tick: dict[str, float] = field(default_factory=dict)
    cpu_percent: dict[str, float] = field(default_factory=dict)
    closed: int = 0


async def live_client(
    url: str, target: Target, tps: int, phase: float, record: HubRecord, until: float,
    counts: dict[str, int],
) -> None:  # fmt: skip
    socket = await websockets.connect(
        f"{url.replace('http://', 'ws://', 1)}/1/ws/live/{target.hub_id}?tps={tps}",
        additional_headers=target.live_headers,
        compression=None,
        open_timeout=60,
    )

    async def read() -> None:
        try:
            async for raw in socket:
                message = orjson.loads(raw)
                kind = message.get("ResponseType")
                if kind == "Ping":
                    await socket.send(
                        orjson.dumps({"RequestType": "Pong", "Data": {"Timestamp": 1}}).decode()
                    )
                elif kind not in ("TPS", "DeviceConnected", "LatencyAnnounce"):
                    counts["refusals"] += 1
        except ConnectionClosed:
            pass

    reader = asyncio.create_task(read())
    loop = asyncio.get_running_loop()
    due = loop.time() + phase
    n = 0
    try:
        while loop.time() < until:
            await asyncio.sleep(max(0.0, due - loop.time()))
            intensity = 1 + n % 100
            frame = {"RequestType": "Frame",
                     "Data": {"Shocker": target.shocker_id, "Intensity": intensity,
                              "Type": "Vibrate"}}  # fmt: skip
            record.frame_sent(intensity, time.perf_counter())
            await socket.send(orjson.dumps(frame).decode())
            counts["frames"] += 1
            n += 1
            due += 1 / tps
    finally:
        if socket.close_code is not None:
            counts["closed"] += 1
        await socket.close()
        await reader


async def drive(
    url: str, targets: list[Target], tps: int, seconds: float, pids: dict[str, int],
    views_online: bool,
) -> Outcome:  # fmt: skip
    """`views_online`: wait until the views say every hub is online (the real gateway
    refuses a live socket before)."""
    records = [HubRecord() for _ in targets]
    hubs = [
        await connect_hub(url, t.hub_token, r.on_commands)
        for t, r in zip(targets, records, strict=True)
    ]
    readers = [asyncio.create_task(hub.run()) for hub in hubs]
    if views_online:
        await asyncio.wait_for(asyncio.gather(*(h.online.wait() for h in hubs)), 60)
        owners = [(t.hub_id, {**t.live_headers, "User-Agent": "hubline-bench"}) for t in targets]
        await asyncio.to_thread(wait_online, url, owners)
    return await _measured(url, targets, records, hubs, readers, tps, seconds, pids)


async def _measured(
    url: str,
    targets: list[Target],
    records: list[HubRecord],
    hubs: list[LoadHub],
    readers: list[asyncio.Task[None]],
    tps: int,
    seconds: float,
    pids: dict[str, int],
) -> Outcome:
    loop = asyncio.get_running_loop()
    counts = {"frames": 0, "refusals": 0, "closed": 0}
    start = loop.time() + 1.0
    until = start + WARM_UP_SECONDS + seconds
    clients = [
        asyncio.create_task(
            live_client(url, t, tps, 1.0 + i / len(targets) / tps, r, until, counts)
        )
        for i, (t, r) in enumerate(zip(targets, records, strict=True))
    ]
    await asyncio.sleep(max(0.0, start + WARM_UP_SECONDS - loop.time()))
    window_start = time.perf_counter()
    frames_before = counts["frames"]
    latency_marks = [len(r.latencies) for r in records]
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    await asyncio.sleep(max(0.0, until - loop.time()))
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    window_end = time.perf_counter()
    frames = counts["frames"] - frames_before
    await asyncio.gather(*clients)
    await asyncio.sleep(0.5)
    for hub in hubs:
        await hub.socket.close()
    await asyncio.gather(*readers)
    out = Outcome(frames=frames, refusals=counts["refusals"], closed=counts["closed"])
    out.closed += sum(hub.closed_with not in (None, 1000) for hub in hubs)
    window = window_end - window_start
    for record, mark in zip(records, latency_marks, strict=True):
        inside = [t for t in record.arrivals if window_start <= t <= window_end]
        out.ticks += len(inside)
        out.expected_ticks += int(window / TICK_SECONDS)
        # Against the hub's own first and last list, so that the window's edges miss nothing.
        if inside:
            spanned = round((inside[-1] - inside[0]) / TICK_SECONDS) + 1
            out.missed_ticks += max(0, spanned - len(inside))
        gaps = [b - a for a, b in itertools.pairwise(inside)]
        out.gaps += gaps
        out.late_ticks += sum(g > 1.5 * TICK_SECONDS for g in gaps)
        out.latencies += record.latencies[mark:]
    out.frames_seen = len(out.latencies)
    for name, spent in cpu.items():
        out.cpu_us_per_frame[name] = spent * 1e6 / max(frames, 1)
        out.cpu_us_per_tick[name] = spent * 1e6 / max(out.ticks, 1)
        out.cpu_percent[name] = 100 * spent / window
    return out


def real_targets(url: str, clients: int) -> list[Target]:
    made = paired_hubs(url, clients)
    return [
        Target(h.hub_id, h.shocker_id, h.token, {"OpenShockToken": h.owner.api_token}) for h in made
    ]


def bare_targets(clients: int) -> list[Target]:
    targets = []
    for _ in range(clients):
        hub_id = str(uuid.uuid4())
        targets.append(Target(hub_id, str(uuid.uuid4()), hub_id, {}))
    return targets


@contextmanager
def running_live_bare() -> Iterator[tuple[str, int]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.openshock_live_bare", "--port", str(port)], cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/readyz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def describe(out: Outcome, seconds: float) -> list[str]:
    def per(figures: dict[str, float]) -> str:
        return ", ".join(f"{name} {value:,.0f}" for name, value in figures.items())

    return [
        f"  frames sent: {out.frames} ({out.frames / seconds:,.0f}/s), {out.refusals} refused,"
        f" {out.closed} sockets closed by the server",
        f"  command lists at the hubs: {out.ticks} of {out.expected_ticks} ticks"
        f" ({out.ticks / max(out.expected_ticks, 1):.1%}), {out.missed_ticks} missed,"
        f" {out.late_ticks} late (> 300 ms after the hub's previous one);"
        f" gap between ticks {percentiles(out.gaps)}",
        f"  frame -> hub ({out.frames_seen} frames carried by a tick):"
        f" {percentiles(out.latencies)}",
        f"  server CPU µs per frame: {per(out.cpu_us_per_frame)}; per command list:"
        f" {per(out.cpu_us_per_tick)}; % of a core: {per(out.cpu_percent)}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--tps", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured, after warm-up")
    args = parser.parse_args()
    started = time.strftime("%H:%M:%S", time.gmtime())
    load_before = os.getloadavg()[0]
    with running_deployment(args, LIMITS_OFF) as deployment:
        url = deployment.server.url
        targets = real_targets(url, args.clients)
        hubline = asyncio.run(
            drive(url, targets, args.tps, args.seconds, deployment_processes(), True)
        )
    with running_live_bare() as (bare_url, pid):
        bare = asyncio.run(
            drive(
                bare_url, bare_targets(args.clients), args.tps, args.seconds, {"bare": pid}, False
            )
        )
    print(
        f"deployment: {deployment_name(args)}; started {started} UTC;"
        f" load {load_before:.2f} -> {os.getloadavg()[0]:.2f}"
    )
    print(f"hubline, {args.clients} live clients at {args.tps} TPS, {args.seconds:.0f} s measured:")
    print("\n".join(describe(hubline, args.seconds)))
    print("anchor, bare live app (frames in memory, ticks from memory):")
    print("\n".join(describe(bare, args.seconds)))
    if hubline.refusals or hubline.closed:
        sys.exit("some frames were refused or sockets closed: see above")


if __name__ == "__main__":
    main()
