"""`hubline simulate hubs`: simulated OpenShock hubs, paired and online as real ones would be."""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import urlsplit

from domain.openshock.values import MAX_HUBS_PER_USER, MAX_SHOCKERS_PER_HUB
from infra.command_line import Subcommand, add_command, fail, settings_default
from infra.settings import Settings


def _between(low: int, high: int, why: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not {low} to {high} ({why})")
        return value

    return parse


def add_parsers(
    simulate: Any, common: argparse.ArgumentParser
) -> dict[tuple[str, str | None], Subcommand]:
    hubs = add_command(
        simulate,
        "hubs",
        "run simulated OpenShock hubs: paired with a pair code, connected through assignLCG, "
        "printing every command their shockers receive (Ctrl-C stops them)",
        parents=[common],
    )
    hubs.add_argument(
        "--count",
        type=_between(1, MAX_HUBS_PER_USER, "a user's hub limit"),
        default=1,
        metavar="N",
        help=f"how many hubs, 1 to {MAX_HUBS_PER_USER} (a user's limit, counting their other "
        "hubs): Simulated hub 1 … N, reused when they exist",
    )
    hubs.add_argument(
        "--owner",
        required=True,
        metavar="USER",
        help="the OpenShock username (or e-mail) the hubs belong to",
    )
    hubs.add_argument(
        "--url",
        default=f"http://127.0.0.1:{settings_default('port')}",
        help="the server's OpenShock API, where the hubs pair and ask for their gateway",
    )
    hubs.add_argument(
        "--shockers",
        type=_between(1, MAX_SHOCKERS_PER_HUB, "a hub's shocker limit"),
        default=1,
        metavar="K",
        help=f"shockers per hub, 1 to {MAX_SHOCKERS_PER_HUB}: Simulated shocker 1 … K (models in "
        "turn, random RF ids), reused when they exist",
    )
    return {("simulate", "hubs"): _simulate_hubs}


def _simulate_hubs(settings: Settings, args: argparse.Namespace) -> int:
    from infra.root.hub_simulation import SimulationRefused, provision, simulate

    url = args.url.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return fail(f"--url {args.url!r} is not a server address like http://127.0.0.1:8080")
    try:
        hubs = provision(settings, args.owner, args.count, args.shockers)
    except SimulationRefused as exc:
        return fail(str(exc))
    print(f"simulating {len(hubs)} OpenShock hubs against {url}", file=sys.stderr, flush=True)
    return 0 if simulate(url, hubs) else 1
