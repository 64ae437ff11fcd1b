"""`hubline thermostats|simulate`: register SENZ thermostats, and simulate them on the gateway."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from domain.errors import DomainError
from infra.command_line import CLI_CONTEXT, Subcommand, add_command, add_command_group, fail
from infra.root import offline
from infra.settings import Settings


def add_parsers(
    commands: Any, simulate: Any, common: argparse.ArgumentParser
) -> dict[tuple[str, str | None], Subcommand]:
    thermostats = add_command_group(commands, "thermostats", "SENZ thermostats: add")
    add_thermostat = add_command(
        thermostats, "add", "register a thermostat to its owner", parents=[common]
    )
    add_thermostat.add_argument("--serial", required=True, help="the thermostat's serial number")
    add_thermostat.add_argument("--owner", required=True, help="the owner's e-mail")
    add_thermostat.add_argument("--name", default="", help="the name shown for it (default: none)")

    sim = add_command(
        simulate, "thermostats", "run simulated thermostats on the gateway", parents=[common]
    )
    sim.add_argument("--count", type=int, default=5, help="how many thermostats")
    sim.add_argument("--owner", required=True, help="the owner's e-mail")
    sim.add_argument("--url", default="ws://127.0.0.1:8080", help="the server's websocket URL")
    sim.add_argument("--prefix", default="SIM", help="serial numbers are PREFIX0000…")
    sim.add_argument("--tick", type=float, default=5.0, help="seconds between reports")

    return {
        ("thermostats", "add"): _add_thermostat,
        ("simulate", "thermostats"): _simulate_thermostats,
    }


def _add_thermostat(settings: Settings, args: argparse.Namespace) -> int:
    from domain.thermostats.commands import RegisterThermostat

    admin = offline.administration(settings)
    owner = admin.natural_keys.user_by_email(args.owner)
    if owner is None:
        return fail(f"no user {args.owner}")
    try:
        admin.bus.execute_now(
            RegisterThermostat(
                serial_number=args.serial, owner=owner.subject, name=args.name, context=CLI_CONTEXT
            )
        )
    except DomainError as exc:
        return fail(str(exc))
    print(args.serial.strip().upper())
    return 0


def _simulate_thermostats(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from infra.thermostats.simulator import provision, run

    admin = offline.administration(settings)
    owner = admin.natural_keys.user_by_email(args.owner)
    if owner is None:
        return fail(f"no user {args.owner}")
    devices = provision(admin.bus, owner.subject, args.count, args.prefix.upper())
    print(f"simulating {len(devices)} thermostats against {args.url}", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args.url.rstrip("/"), devices, args.tick))
    return 0
