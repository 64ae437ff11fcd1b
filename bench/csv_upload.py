"""A large access-list upload: time, server memory, and whether reads stay available meanwhile.

python -m bench.csv_upload [--rows N] [--postgres URL [--kafka HOST:PORT]]

Anchor, measured in the same run: the same rows as SetDevicePublicKey commands through the
command bus in-process with 500 in flight on a fresh store of the same kind (the
store's group-commit ceiling for these writes), and a bare parse of the same CSV bytes.
While the upload runs, a reader alternates GET /api/v1/deviceauth/{id} and
GET /audit/events and counts every answer that is not a 200.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.append_throughput import CONTEXT
from bench.deployments import (
    add_deployment_arguments,
    deployment_flags,
    deployment_name,
    running_deployment,
    settings_from,
)
from domain.deviceauth.access_list_csv import parse_access_list
from domain.deviceauth.commands import SetDevicePublicKey
from infra.command_bus import CommandBus
from infra.root.services import HANDLERS
from infra.store.event_store import EventStore
from tests.e2e.server import Server

PERMISSIONS = "deviceAuth:read,deviceAuth:update,deviceAuth:delete,audit:read"


def access_list(rows: int) -> tuple[bytes, list[tuple[str, str]]]:
    """Distinct P-256 keys, so that no key check is answered from a cache."""
    pairs = []
    for n in range(rows):
        pem = (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        pairs.append((f"BENCH-{n:07d}", base64.b64encode(pem).decode()))
    body = ("deviceIdentifier;publicKey\r\n" + "".join(f"{i};{k}\r\n" for i, k in pairs)).encode()
    return body, pairs


def status_kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith(field)))


def reset_peak(pid: int) -> None:
    # "5" resets VmHWM to the current resident set (proc(5), clear_refs).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


async def store_anchor(args: argparse.Namespace, pairs: list[tuple[str, str]]) -> float:
    settings = settings_from(deployment_flags(args))
    store = EventStore(settings)
    bus = CommandBus(store.app, HANDLERS, settings.max_batch_size)
    bus.start()
    semaphore = asyncio.Semaphore(500)

    async def run(identifier: str, key: str) -> None:
        async with semaphore:
            await bus.execute(
                SetDevicePublicKey(device_identifier=identifier, public_key=key, context=CONTEXT)
            )

    started = time.perf_counter()
    await asyncio.gather(*(run(i, k) for i, k in pairs))
    elapsed = time.perf_counter() - started
    bus.stop()
    store.close()
    return elapsed


async def upload_while_reading(
    server: Server, token: str, body: bytes, probe: str
) -> tuple[float, dict[int, int], list[float]]:
    headers = {"Authorization": f"Bearer {token}"}
    answers: dict[int, int] = {}
    latencies: list[float] = []
    done = asyncio.Event()

    async def read() -> None:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as http:
            paths = [f"/api/v1/deviceauth/{probe}", "/audit/events?limit=10"]
            n = 0
            while not done.is_set():
                started = time.perf_counter()
                response = await http.get(paths[n % 2])
                latencies.append(time.perf_counter() - started)
                answers[response.status_code] = answers.get(response.status_code, 0) + 1
                n += 1
                await asyncio.sleep(0.05)

    reader = asyncio.create_task(read())
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=600) as http:
        started = time.perf_counter()
        response = await http.post(
            "/api/v1/deviceauth", content=body, headers={"Content-Type": "text/csv"}
        )
        elapsed = time.perf_counter() - started
    response.raise_for_status()
    done.set()
    await reader
    return elapsed, answers, latencies


def first_readable(server: Server, token: str, path: str) -> float:
    """Seconds from the upload's answer until its last row could be read (not a 503)."""
    started = time.perf_counter()
    while True:
        response = httpx.get(
            f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=120
        )
        if response.status_code == 200:
            return time.perf_counter() - started
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    body, pairs = access_list(args.rows)
    started = time.perf_counter()
    parse_access_list(body)
    parse_seconds = time.perf_counter() - started
    anchor_seconds = asyncio.run(store_anchor(args, pairs))
    env = {"HUBLINE_MAX_UPLOAD_BYTES": str(len(body) + 1024 * 1024)}
    with running_deployment(args, env=env) as deployment:
        server = deployment.server
        assert server.process is not None
        pid = server.process.pid
        token = deployment.cli(
            "tokens", "create", "--name", "bench", "--permissions", PERMISSIONS
        ).splitlines()[-1]
        # Warm up the upload path and the reads, so that idle memory includes what they import.
        warm, _ = access_list(10)
        httpx.post(
            f"{server.url}/api/v1/deviceauth",
            content=warm.replace(b"BENCH-", b"WARM-"),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
            timeout=60,
        ).raise_for_status()
        time.sleep(1)
        idle = status_kib(pid, "VmRSS")
        reset_peak(pid)
        elapsed, answers, latencies = asyncio.run(
            upload_while_reading(server, token, body, pairs[-1][0])
        )
        peak = status_kib(pid, "VmHWM")
        readable_after = first_readable(server, token, f"/api/v1/deviceauth/{pairs[-1][0]}")
        time.sleep(5)
        after = status_kib(pid, "VmRSS")
        listed = httpx.get(
            f"{server.url}/api/v1/deviceauth",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        ).json()
    stored = sum(1 for entry in listed if entry["deviceIdentifier"].startswith("BENCH-"))
    latencies.sort()
    print(f"deployment: {deployment_name(args)}")
    size = len(body) / 1e6
    print(f"upload of {args.rows:,} rows ({size:.1f} MB): {elapsed:.1f} s; {stored:,} stored")
    print(
        f"anchor, same rows through the bus in-process (500 in flight): {anchor_seconds:.1f} s;"
        f" upload/anchor {elapsed / anchor_seconds:.2f}; bare parse of the CSV"
        f" {parse_seconds:.1f} s"
    )
    print(
        f"server RSS: idle {idle / 1024:,.0f} MiB, peak {peak / 1024:,.0f} MiB "
        f"(+{(peak - idle) / 1024:,.0f}), 5 s after {after / 1024:,.0f} MiB "
        f"(+{(after - idle) / 1024:,.0f})"
    )
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    worst = latencies[-1] * 1000 if latencies else 0.0
    print(
        f"reads during the upload: {sum(answers.values())} answers {dict(sorted(answers.items()))},"
        f" p50 {p50:.0f} ms, max {worst:.0f} ms; the last row read {readable_after:.1f} s"
        " after the upload was answered"
    )


if __name__ == "__main__":
    main()
