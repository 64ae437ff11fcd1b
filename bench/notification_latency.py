"""Command-to-notification latency: HTTP write until the DEVICE_AUTH_UPDATE arrives on /api/v1/ws.

Starts real server processes (and relay + worker with --kafka) and measures from the
moment the POST is sent to the moment its notification is received.

python -m bench.notification_latency [--postgres URL --kafka HOST:PORT] [--count N]
python -m bench.notification_latency --rate 1000 --seconds 10 [--connections 16] [...]

With --rate the writes are offered open-loop: write n is due at start + n/rate whatever
the server is doing, sent on the first free connection of a pool, and its latency runs
from when it was due (not when a connection got free), so that queueing in the server,
or behind a busy pool, shows in the figure rather than slowing the offered load down.
The notifications are received on their own thread, stamped as each frame arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from bench.deployments import add_deployment_arguments, deployment_name, running_deployment
from tests.e2e.server import Server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--count", type=int, default=500, help="sequential writes")
    parser.add_argument("--rate", type=float, help="offered writes per second (open loop)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to offer --rate")
    parser.add_argument("--connections", type=int, default=16, help="HTTP connections for --rate")
    args = parser.parse_args()
    with running_deployment(args) as deployment:
        token = (
            deployment.cli(
                "tokens",
                "create",
                "--name",
                "bench",
                "--permissions",
                "deviceAuth:read,deviceAuth:update",
            )
            .strip()
            .splitlines()[-1]
        )
        if args.rate:
            run = asyncio.run(
                offer(deployment.server, token, args.rate, args.seconds, args.connections)
            )
        else:
            run = Run(latencies=measure(deployment.server, token, args.count))
    print(f"deployment: {deployment_name(args)}")
    if args.rate:
        print(
            f"offered {args.rate:.0f} writes/s for {args.seconds:.0f} s on {args.connections}"
            f" connections: sent {run.sent} in {run.elapsed:.1f} s, {run.failed} failed,"
            f" {run.missing} notifications missing"
        )
        print(f"write answered: {_percentiles(run.answers)}")
        print(f"notification after the answer: {_percentiles(run.after_answer)}")
    print(
        f"command-to-notification over {len(run.latencies)} writes: {_percentiles(run.latencies)}"
    )


def _percentiles(latencies: list[float]) -> str:
    if not latencies:
        return "none"
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


@dataclass
class Run:
    latencies: list[float]
    answers: list[float] = field(default_factory=list)
    # Notification received minus write answered: the push path alone (negative when the
    # notification overtook the answer).
    after_answer: list[float] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    missing: int = 0
    elapsed: float = 0.0


def measure(server: Server, token: str, count: int) -> list[float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    with (
        connect(f"{server.ws_url}/api/v1/ws?token={token}") as ws,
        httpx.Client(base_url=server.url, headers=headers) as http,
    ):
        time.sleep(1)  # let a Kafka feed settle at the end of its topic
        for n in range(count):
            identifier = f"LAT-{uuid.uuid4().hex[:10]}".upper()
            sent = time.perf_counter()
            assert (
                http.post(
                    f"/api/v1/deviceauth/{identifier}", json={"publicKey": f"k{n}"}
                ).status_code
                == 204
            )
            while True:
                frame = json.loads(ws.recv(timeout=30))
                if frame.get("deviceIdentifier") == identifier:
                    latencies.append(time.perf_counter() - sent)
                    break
    return latencies


class _Receipts:
    """Stamps each notification as its frame arrives, on a thread of its own."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self.arrived: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                raw = self._ws.recv()
                arrived = time.perf_counter()
                identifier = json.loads(raw).get("deviceIdentifier")
                if identifier is not None:
                    self.arrived[identifier] = arrived
        except ConnectionClosed:
            return

    def wait_for(self, identifiers: list[str], timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and any(i not in self.arrived for i in identifiers):
            time.sleep(0.05)


async def offer(server: Server, token: str, rate: float, seconds: float, connections: int) -> Run:
    total = int(rate * seconds)
    identifiers = [f"LAT-{uuid.uuid4().hex[:12]}".upper() for _ in range(total)]
    due: dict[str, float] = {}
    answered: dict[str, float] = {}
    failed = 0
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    host, port = server.url.removeprefix("http://").rsplit(":", 1)

    async def sender() -> None:
        nonlocal failed
        # A bare HTTP/1.1 keep-alive client: a full client library would take the CPU
        # the server is measured on (two cores for both at 1,000 writes/s).
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while (identifier := await queue.get()) is not None:
                body = b'{"publicKey":"k"}'
                writer.write(
                    f"POST /api/v1/deviceauth/{identifier} HTTP/1.1\r\nHost: {host}\r\n"
                    f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                head = await reader.readuntil(b"\r\n\r\n")
                answered[identifier] = time.perf_counter()
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                if not head.startswith(b"HTTP/1.1 204"):
                    failed += 1
        finally:
            writer.close()

    with connect(f"{server.ws_url}/api/v1/ws?token={token}") as ws:
        receipts = _Receipts(ws)
        await asyncio.sleep(1)  # let a Kafka feed settle at the end of its topic
        senders = [asyncio.create_task(sender()) for _ in range(connections)]
        start = time.perf_counter()
        for n, identifier in enumerate(identifiers):
            at = start + n / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            due[identifier] = at
            queue.put_nowait(identifier)
        for _ in senders:
            queue.put_nowait(None)
        await asyncio.gather(*senders)
        elapsed = time.perf_counter() - start
        await asyncio.to_thread(receipts.wait_for, identifiers, 30)
    arrived = receipts.arrived
    latencies = [arrived[i] - due[i] for i in identifiers if i in arrived]
    return Run(
        latencies=latencies,
        answers=[answered[i] - due[i] for i in identifiers if i in answered],
        after_answer=[
            arrived[i] - answered[i] for i in identifiers if i in arrived and i in answered
        ],
        sent=total,
        failed=failed,
        missing=total - len(latencies),
        elapsed=elapsed,
    )


if __name__ == "__main__":
    main()
