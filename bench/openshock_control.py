"""OpenShock control through REST: POST /2/shockers/control on one shocker, and spread over 100.

python -m bench.openshock_control [--postgres URL [--kafka HOST:PORT]] [--seconds N]

wrk with 50 connections (bench/openshock_control.lua), each request one item (Shock,
intensity 50, 1000 ms) sent with an API token holding shockers.use alone:
- one shocker: one user, one hub, one shocker, one token;
- spread: 100 shockers, 10 users x 1 hub x 10 shockers (a user may have 4 hubs of at most
  11 shockers), each user with its own token, the script rotating over the 100.
No hub is connected: each item is stored as a `ShockerCommand.Sent` event (what a hub would
be sent and the logs are read from), which is the request's work.

The OpenShock limits are off for the run (the real API's 120 requests a minute per user would
answer 429 within the first second): HUBLINE_OPENSHOCK_*_REQUESTS_PER_MINUTE=0.
Anchor, measured in the same run with the same script and rotation: the bare FastAPI app's
route of the same shape (bench/bare_app.py) under `hubline serve`'s uvicorn configuration.
Each run gets one second of warm-up. CPU per request is each process's user + system time
over the measured run (from /proc), divided by the requests wrk counted.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.anchors import ratio
from bench.bare_app import running_bare_app
from bench.deployments import (
    RunningDeployment,
    add_deployment_arguments,
    deployment_name,
    running_deployment,
)
from bench.process_cpu import cpu_seconds
from bench.wrk_runs import WrkFigures, run_wrk, wrk_available

SCRIPT = Path(__file__).with_name("openshock_control.lua")
CONNECTIONS = 50
LIMITS_OFF = {
    "HUBLINE_OPENSHOCK_USER_REQUESTS_PER_MINUTE": "0",
    "HUBLINE_OPENSHOCK_ANONYMOUS_REQUESTS_PER_MINUTE": "0",
    "HUBLINE_OPENSHOCK_AUTH_REQUESTS_PER_MINUTE": "0",
}
SETUP_PERMISSIONS = "devices.edit,shockers.edit"
PASSWORD = "correct horse battery staple"
# The API refuses a request without a User-Agent (403).
USER_AGENT = "hubline-bench"

# A shocker as the script sends to it: its owner's control token and its id.
Target = tuple[str, str]


def deployment_processes() -> dict[str, int]:
    """This bench's `hubline` children by command (serve; relay and project when
    distributed): PostgreSQL and Kafka are not ours to count."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if parent == os.getpid() and b"infra.cli" in argv:
            found[argv[argv.index(b"infra.cli") + 1].decode()] = int(entry.name)
    return found


@dataclass(frozen=True)
class Measured:
    figures: WrkFigures
    # Microseconds of CPU per request, by process.
    cpu_us: dict[str, float]

    def describe_cpu(self) -> str:
        return ", ".join(f"{name} {us:,.0f}" for name, us in self.cpu_us.items())


def drive(url: str, targets: list[Target], seconds: float) -> WrkFigures:
    pairs = ",".join(f"{token}@{shocker}" for token, shocker in targets)
    return run_wrk(SCRIPT, url, {"PAIRS": pairs}, seconds, CONNECTIONS)


def measure(url: str, targets: list[Target], seconds: float, pids: dict[str, int]) -> Measured:
    drive(url, targets, 1)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    figures = drive(url, targets, seconds)
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    return Measured(
        figures, {name: s * 1e6 / max(figures.requests, 1) for name, s in spent.items()}
    )


def controllers(deployment: RunningDeployment, hubs: int, shockers_per_hub: int) -> list[Target]:
    """`hubs` users of one hub each with `shockers_per_hub` shockers, made as an operator and
    their owners make them (CLI, then REST); each user's shockers with a shockers.use token."""
    targets: list[Target] = []
    with httpx.Client(
        base_url=deployment.server.url, timeout=30, headers={"User-Agent": USER_AGENT}
    ) as client:
        for _ in range(hubs):
            suffix = os.urandom(5).hex()
            email = f"bench-{suffix}@example.com"
            deployment.cli(
                "users", "create", "--email", email, "--username", f"bench{suffix}",
                stdin=PASSWORD + "\n",
            )  # fmt: skip
            owner = {"OpenShockToken": token(deployment, email, SETUP_PERMISSIONS)}
            hub = client.post("/2/devices", json={"name": "Bench hub"}, headers=owner)
            hub.raise_for_status()
            control = token(deployment, email, "shockers.use")
            for rf_id in range(1, shockers_per_hub + 1):
                shocker = client.post(
                    "/1/shockers",
                    json={"name": f"S{rf_id}", "rfId": rf_id, "device": hub.json(),
                          "model": "CaiXianlin"},
                    headers=owner,
                )  # fmt: skip
                shocker.raise_for_status()
                targets.append((control, shocker.json()["data"]))
    return targets


def answered_as_sent(url: str, target: Target) -> None:
    """One request of the script's shape, outside wrk: wrk counts only answers >= 400 as
    errors, so this shows that an answer is the real route's 200."""
    control_token, shocker = target
    answer = httpx.post(
        f"{url}/2/shockers/control",
        json={"shocks": [{"id": shocker, "type": "Shock", "intensity": 50, "duration": 1000}]},
        headers={"OpenShockToken": control_token, "User-Agent": USER_AGENT},
        timeout=30,
    )
    if answer.status_code != 200:
        sys.exit(f"control answered {answer.status_code}: {answer.text}")


def token(deployment: RunningDeployment, email: str, permissions: str) -> str:
    """A new API token of the user `email` (the CLI prints it alone on stdout)."""
    created = deployment.cli(
        "tokens", "create", "--name", "bench", "--permissions", permissions, "--owner", email
    )
    return created.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--seconds", type=float, default=10.0, help="of each wrk run")
    args = parser.parse_args()
    if not wrk_available():
        print("OpenShock control: skipped, wrk is not installed (apt-get install wrk)")
        return
    with running_deployment(args, LIMITS_OFF) as deployment:
        one = controllers(deployment, 1, 1)
        spread = controllers(deployment, 10, 10)
        pids = deployment_processes()
        url = deployment.server.url
        answered_as_sent(url, one[0])
        answered_as_sent(url, spread[-1])
        on_one = measure(url, one, args.seconds, pids)
        on_spread = measure(url, spread, args.seconds, pids)
        with running_bare_app() as bare:
            anchor = measure(bare.url, spread, args.seconds, {"bare app": bare.pid})
    print(f"deployment: {deployment_name(args)}; load average {os.getloadavg()[0]:.2f}")
    for label, run in (("1 shocker", on_one), (f"{len(spread)} shockers", on_spread)):
        print(f"hubline serve, POST /2/shockers/control, {label}: {run.figures.describe()}")
        print(f"  CPU µs/request: {run.describe_cpu()}")
        print(
            f"  hubline/bare: "
            f"{ratio(run.figures.requests_per_second, anchor.figures.requests_per_second)} "
            f"requests/s; p99 {run.figures.p99_ms:.1f} vs {anchor.figures.p99_ms:.1f} ms"
        )
    print(f"anchor, bare FastAPI app: {anchor.figures.describe()}")
    print(f"  CPU µs/request: {anchor.describe_cpu()}")
    if any(run.figures.not_2xx or run.figures.socket_errors for run in (on_one, on_spread)):
        sys.exit("some control requests were not answered 2xx: see the counts above")


if __name__ == "__main__":
    main()
