"""Command-to-notification latency: HTTP write until the DEVICE_AUTH_UPDATE arrives on /api/v1/ws.

Starts real server processes (and relay + worker with --kafka) and measures from the
moment the POST is sent to the moment its notification is received.

python -m bench.notification_latency [--postgres URL --kafka HOST:PORT] [--count N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid

import httpx
from websockets.sync.client import connect

from bench.deployments import add_deployment_arguments, deployment_name, running_deployment
from tests.e2e.server import Server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--count", type=int, default=500)
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
        latencies = measure(deployment.server, token, args.count)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"deployment: {deployment_name(args)}")
    print(
        f"command-to-notification over {len(latencies)} writes: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )


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


if __name__ == "__main__":
    main()
