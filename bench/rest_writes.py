"""REST write throughput: POST /api/v1/deviceauth/{id} with an API token, beside a bare app.

python -m bench.rest_writes [--postgres URL [--kafka HOST:PORT]] [--seconds N]

wrk with 50 connections (bench/deviceauth_writes.lua): each request sets the key of a device
never seen before (two events: Registered, PublicKeySet), with valid P-256 keys from a pool.
Anchor, measured in the same run with the same script and keys: the bare FastAPI app of
bench/anchors.py under the same uvicorn configuration. Each run gets one second of warm-up.
After the run, the devices it named (its own prefix) are counted against the 2xx answers: a
request still in flight when wrk stops may be stored without being counted, so stored >= 2xx,
and fewer is a lost acknowledged write (the bench fails).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx

from bench.anchors import bare_fastapi_writes, cpu_per_request, ratio
from bench.deployments import add_deployment_arguments, deployment_name, running_deployment
from bench.deviceauth_writes import drive, new_prefix, public_key_pool
from bench.process_cpu import cpu_seconds
from bench.wrk_runs import wrk_available

# Shared objects whose presence in the serve process shows what runs its connections.
_NATIVE_MODULES = {"uvloop": "uvloop/loop.", "httptools": "httptools/parser/parser."}


def loaded_native_modules(pid: int) -> dict[str, bool]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name: marker in maps for name, marker in _NATIVE_MODULES.items()}


def stored_devices(url: str, token: str, prefix: str) -> int:
    """Devices of one run (named `prefix`-n), as the list answers once it holds our writes."""
    response = httpx.get(
        f"{url}/api/v1/deviceauth", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    response.raise_for_status()
    return sum(1 for e in response.json() if e["deviceIdentifier"].startswith(prefix + "-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--seconds", type=float, default=10.0, help="of each wrk run")
    args = parser.parse_args()
    if not wrk_available():
        print("REST writes: skipped, wrk is not installed (apt-get install wrk)")
        return
    keys = public_key_pool()
    bare = bare_fastapi_writes(args.seconds, keys)
    with running_deployment(args) as deployment:
        token = deployment.cli(
            "tokens",
            "create",
            "--name",
            "bench",
            "--permissions",
            "deviceAuth:read,deviceAuth:update",
        ).splitlines()[-1]
        server = deployment.server
        assert server.process is not None
        native = loaded_native_modules(server.process.pid)
        drive(server.url, token, keys, 1)
        prefix = new_prefix()
        cpu_before = cpu_seconds(server.process.pid)
        hubline = drive(server.url, token, keys, args.seconds, prefix=prefix)
        cpu = cpu_per_request(cpu_seconds(server.process.pid) - cpu_before, hubline)
        stored = stored_devices(server.url, token, prefix)
    print(f"deployment: {deployment_name(args)}")
    print(f"hubline serve, POST /api/v1/deviceauth/{{id}}: {hubline.describe()}")
    print(f"anchor, bare FastAPI app: {bare.figures.describe()}")
    print(
        f"hubline/bare: {ratio(hubline.requests_per_second, bare.figures.requests_per_second)} "
        f"requests/s; p99 {hubline.p99_ms:.1f} vs {bare.figures.p99_ms:.1f} ms"
    )
    print(
        f"server CPU a request (user + system): hubline {cpu:.0f} µs, "
        f"bare {bare.cpu_us_per_request:.0f} µs ({cpu / bare.cpu_us_per_request:.2f} x)"
    )
    answered = hubline.requests - hubline.not_2xx
    print(f"devices stored by the run: {stored:,} (2xx answers counted by wrk: {answered:,})")
    if stored < answered:
        raise SystemExit(f"{answered - stored:,} answered writes are missing from the store")
    print(
        "serve process: "
        + ", ".join(f"{name} {'loaded' if on else 'NOT loaded'}" for name, on in native.items())
        + f"; bare app's event loop {bare.event_loop}"
    )


if __name__ == "__main__":
    main()
