"""Pusher fan-out: Hubline beside Sockudo built on this machine, same client, same run.

python -m bench.pusher_fanout [--seconds 5] [--connections 1000] [--big 10000]
    [--no-sockudo] [--profile] [--postgres URL [--kafka HOST:PORT]]

Both servers are driven by the one compiled load client (bench/pusher_load, Go; a Python
subscriber saturates near 35-40k messages/s and would measure itself). Each server runs
pinned to CPU 0 (taskset), the client on CPU 1; server CPU time comes from /proc/PID/stat
(utime+stime, every thread) before and after each phase. Per server:

- idle: `--connections` subscribed, silent sockets on a fresh server; VmRSS growth / N.
- triggers: signed POST /apps/{id}/events, `--inflight` outstanding, to a channel nobody
  listens to; triggers/s and server CPU per trigger.
- fan-out at 1, 100 and 1,000 subscribers per channel (`--connections` sockets), and
  `--big` sockets at 1,000 per channel: a closed-loop phase (deliveries/s, CPU per
  delivery) then a paced one at a fixed trigger rate (trigger->client p50/p99: the send
  time travels in the event's data).

Sockudo comes from bench/sockudo.sh (cargo install into ~/.cache/hubline/sockudo; ~20
minutes the first time, niced). If it is not built, the run builds it first unless
`--no-sockudo`. Every figure is printed beside Sockudo's and the ratio Hubline/Sockudo.
`--profile` adds a py-spy (--nonblocking --gil) profile of Hubline's closed-loop
1,000-subscriber phase: the top self and cumulative frames.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import secrets
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.deployments import add_deployment_arguments, deployment_name, running_deployment
from tests.conftest import free_port

BENCH = Path(__file__).resolve().parent
CACHE = Path.home() / ".cache" / "hubline"
CLIENT = CACHE / "pusher_load" / "pusher_load"
PY_SPY = BENCH.parent / ".venv" / "bin" / "py-spy"
SERVER_CPU, CLIENT_CPU = "0", "1"


@dataclass(frozen=True)
class Scenario:
    name: str
    connections: int
    channels: int
    # Triggers/s of the latency phase: low enough that both servers keep up, so p50/p99 are
    # the path's latency rather than a queue's.
    paced_rate: float


def scenarios(connections: int, big: int) -> list[Scenario]:
    found = [
        Scenario("1 subscriber/channel", connections, connections, 200),
        Scenario("100 subscribers/channel", connections, max(1, connections // 100), 100),
        Scenario("1,000 subscribers/channel", connections, max(1, connections // 1000), 20),
    ]
    if big:
        found.append(Scenario(f"{big:,} sockets, 1,000/channel", big, max(1, big // 1000), 20))
    return found


@dataclass(frozen=True)
class Target:
    """A running Pusher-compatible server the client can drive."""

    name: str
    pid: int
    port: int
    app_id: str
    key: str
    secret: str

    def flags(self) -> list[str]:
        return [
            f"-ws=ws://127.0.0.1:{self.port}",
            f"-http=http://127.0.0.1:{self.port}",
            f"-app-id={self.app_id}",
            f"-key={self.key}",
            f"-secret={self.secret}",
            f"-server-pid={self.pid}",
        ]


def build_client() -> None:
    CLIENT.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["go", "build", "-o", str(CLIENT), "."], cwd=BENCH / "pusher_load", check=True)


def sockudo_binary(build: bool) -> Path | None:
    script = str(BENCH / "sockudo.sh")
    binary = Path(subprocess.run([script, "bin"], capture_output=True, text=True).stdout.strip())
    if binary.is_file() or not build:
        return binary if binary.is_file() else None
    print("building Sockudo (nice -n 19, about 20 minutes the first time)...", flush=True)
    subprocess.run([script, "build"], check=True)
    return binary


def drive(target: Target, mode: str, *flags: str) -> dict[str, Any]:
    command = ["taskset", "-c", CLIENT_CPU, str(CLIENT), f"-mode={mode}", *target.flags(), *flags]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{target.name} {mode}: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def _wait_for_app(port: int, key: str) -> None:
    """A new app reaches the server's view within a second or so; wait for it."""
    url = f"ws://127.0.0.1:{port}/app/{key}?protocol=7&client=bench&version=1"
    deadline = time.monotonic() + 20
    while True:
        try:
            async with websockets.connect(url, open_timeout=5) as ws:
                if "connection_established" in str(await ws.recv()):
                    return
        except (OSError, websockets.WebSocketException):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"app {key} not served on port {port}")
        await asyncio.sleep(0.2)


def _pin(pid: int) -> None:
    # -a: every thread the server has already started; later ones inherit the mask.
    subprocess.run(
        ["taskset", "-a", "-p", "-c", SERVER_CPU, str(pid)], check=True, capture_output=True
    )


@contextmanager
def hubline_target(args: argparse.Namespace) -> Iterator[Target]:
    env = {"HUBLINE_MAX_CONNECTIONS": str(max(args.connections, args.big) + 2000)}
    with running_deployment(args, env=env) as deployment:
        process = deployment.server.process
        assert process is not None
        app = json.loads(deployment.cli("apps", "create", "--name", "bench-fanout").strip())
        port = deployment.server.port
        asyncio.run(_wait_for_app(port, app["key"]))
        _pin(process.pid)
        yield Target("Hubline", process.pid, port, str(app["app_id"]), app["key"], app["secret"])


@contextmanager
def sockudo_target() -> Iterator[Target]:
    port = free_port()
    app_id, key, secret = "1", "bench-" + secrets.token_hex(6), secrets.token_hex(16)
    log = Path(tempfile.mkdtemp(prefix="sockudo-bench-")) / "sockudo.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(BENCH / "sockudo.sh"), "run", str(port), app_id, key, secret, SERVER_CPU],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Sockudo exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/up", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Sockudo not up:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        asyncio.run(_wait_for_app(port, key))
        # sockudo.sh execs the server, so this pid is Sockudo's own.
        yield Target("Sockudo", process.pid, port, app_id, key, secret)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def measure(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of one server, idle memory first while the server is fresh."""
    figures: dict[str, Any] = {}
    figures["idle"] = drive(target, "idle", f"-connections={args.connections}", "-channels=10")
    print(f"  {target.name} idle: {figures['idle']}", flush=True)
    figures["triggers"] = drive(
        target, "triggers", f"-inflight={args.inflight}", f"-max-seconds={args.seconds}"
    )
    print(f"  {target.name} triggers: {figures['triggers']}", flush=True)
    for scenario in scenarios(args.connections, args.big):
        figures[scenario.name] = drive(
            target,
            "fanout",
            f"-connections={scenario.connections}",
            f"-channels={scenario.channels}",
            f"-inflight={args.inflight}",
            f"-max-seconds={args.seconds}",
            f"-paced-rate={scenario.paced_rate}",
            f"-paced-seconds={args.seconds}",
        )
        print(f"  {target.name} {scenario.name}: {figures[scenario.name]}", flush=True)
    return figures


def profile(target: Target, args: argparse.Namespace) -> list[str]:
    """py-spy over a closed-loop 1,000-subscriber phase: where the interpreter's time goes."""
    raw = Path(tempfile.mkdtemp(prefix="pusher-profile-")) / "stacks.txt"
    seconds = args.seconds * 2
    spy = subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(target.pid),
            "--nonblocking",
            "--gil",
            "--rate",
            "100",
            "--duration",
            str(int(seconds) + 4),
            "--format",
            "raw",
            "-o",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        drive(
            target,
            "fanout",
            f"-connections={args.connections}",
            f"-channels={max(1, args.connections // 1000)}",
            f"-inflight={args.inflight}",
            f"-max-seconds={seconds}",
            "-warm-seconds=0",
            "-paced-rate=0",
        )
    finally:
        spy.wait(timeout=120)
    return top_frames(raw)


def top_frames(raw: Path, count: int = 15) -> list[str]:
    own: collections.Counter[str] = collections.Counter()
    cumulative: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].split("/")[-1] + ")"
            if " (" in f
            else f
            for f in stack.split(";")
        ]
        n = int(samples)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            cumulative[frame] += n
    if not total:
        return ["no samples"]
    lines = [f"{total} samples with the GIL"]
    lines += [f"self {n / total:6.1%}  {frame}" for frame, n in own.most_common(count)]
    # The entry frames every event-loop sample shares (runpy, cli, uvicorn's run) say nothing.
    shared = [(f, n) for f, n in cumulative.most_common() if n < 0.8 * total][:count]
    lines += [f"cum  {n / total:6.1%}  {frame}" for frame, n in shared]
    return lines


def _ratio(mine: float | str | None, theirs: float | str | None) -> str:
    if isinstance(mine, str) or isinstance(theirs, str):
        return ""
    if mine is None or theirs is None or not theirs:
        return "n/a"
    return f"{mine / theirs:.2f}"


def _shares(phase: dict[str, Any]) -> str:
    """How busy each side was: a server below ~90 % was not the bottleneck."""
    return f"{phase['server_cpu_share']:.0%} / {phase['client_cpu_share']:.0%}"


def _rows(figures: dict[str, Any]) -> list[tuple[str, str, float | str]]:
    """(scenario, figure, value): the scenario keeps same-named figures apart."""
    idle, http = figures["idle"], figures["triggers"]
    rows = [
        ("idle", "idle KiB/connection", idle["kib_per_connection"]),
        ("triggers", "HTTP triggers/s (nobody subscribed)", http["triggers_per_s"]),
        ("triggers", "  trigger HTTP p99 ms", http["http_p99_ms"]),
        ("triggers", "  server CPU µs/trigger", http["server_cpu_us_per_trigger"]),
        ("triggers", "  server / client CPU share %", _shares(http)),
    ]
    for name, result in figures.items():
        if name in ("idle", "triggers"):
            continue
        most, paced = result["max"], result.get("paced") or {}
        rows += [
            (name, f"**{name}**: deliveries/s (closed loop)", most["deliveries_per_s"]),
            (name, "  triggers/s", most["triggers_per_s"]),
            (name, "  server CPU µs/delivery", most["server_cpu_us_per_delivery"]),
            (name, "  trigger->client p99 ms, saturated", most["p99_ms"]),
            (name, "  server / client CPU share %", _shares(most)),
            (name, "  delivered %", 100 * most["delivered"] / max(1, most["expected_deliveries"])),
            (name, "  paced triggers/s", paced.get("triggers_per_s", 0)),
            (name, "  paced trigger->client p50 ms", paced.get("p50_ms", 0)),
            (name, "  paced trigger->client p99 ms", paced.get("p99_ms", 0)),
            (name, "  paced server CPU µs/delivery", paced.get("server_cpu_us_per_delivery", 0)),
            (name, "  sockets closed by server", result["sockets_closed_by_server"]),
        ]
    return rows


def _shown(value: float | str | None) -> str:
    if value is None:
        return "not run"
    return value if isinstance(value, str) else f"{value:,.1f}"


def report(hubline: dict[str, Any], sockudo: dict[str, Any] | None) -> None:
    theirs = {(scenario, label): v for scenario, label, v in _rows(sockudo)} if sockudo else {}
    print("\n| figure | Hubline | Sockudo | Hubline/Sockudo |\n|---|---|---|---|")
    for scenario, label, value in _rows(hubline):
        other = theirs.get((scenario, label))
        print(f"| {label} | {_shown(value)} | {_shown(other)} | {_ratio(value, other)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--big", type=int, default=10_000, help="sockets of the big run (0: skip)")
    parser.add_argument("--inflight", type=int, default=32, help="triggers outstanding")
    parser.add_argument("--no-sockudo", action="store_true", help="Hubline alone")
    parser.add_argument("--profile", action="store_true", help="py-spy Hubline's fan-out")
    parser.add_argument("--json-out", type=Path, help="also write every raw figure here")
    args = parser.parse_args()

    build_client()
    binary = None if args.no_sockudo else sockudo_binary(build=True)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load average "
        f"{os.getloadavg()[0]:.2f}, deployment {deployment_name(args)}, server on CPU "
        f"{SERVER_CPU}, client on CPU {CLIENT_CPU}, {args.seconds:g} s phases",
        flush=True,
    )
    with hubline_target(args) as target:
        hubline = measure(target, args)
        profiled = profile(target, args) if args.profile else []
    sockudo = None
    if binary is not None:
        with sockudo_target() as target:
            sockudo = measure(target, args)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    report(hubline, sockudo)
    if args.json_out:
        args.json_out.write_text(json.dumps({"hubline": hubline, "sockudo": sockudo}, indent=1))
    if profiled:
        print("\npy-spy, Hubline, 1,000 subscribers/channel, closed loop:")
        print("\n".join(profiled))


if __name__ == "__main__":
    main()
