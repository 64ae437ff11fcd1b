"""Append throughput: one command per transaction, and group commit under concurrency.

python -m bench.append_throughput [--postgres URL] [--count N]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.deployments import (
    add_deployment_arguments,
    deployment_flags,
    deployment_name,
    settings_from,
)
from domain.context import CommandContext
from domain.deviceauth.commands import SetDevicePublicKey
from infra.command_bus import CommandBus
from infra.root.services import HANDLERS
from infra.store.event_store import EventStore

CONTEXT = CommandContext(actor_id="bench", actor_kind="bench")


def command(n: int, round_: str) -> SetDevicePublicKey:
    return SetDevicePublicKey(
        device_identifier=f"b{n}", public_key=f"{round_}-{n}", context=CONTEXT
    )


def one_per_commit(bus: CommandBus, count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        bus.execute_now(command(n, "single"))
    return time.perf_counter() - started


async def grouped(bus: CommandBus, count: int, concurrency: int) -> float:
    bus.start()
    started = time.perf_counter()
    pending = [command(n, "grouped") for n in range(count)]
    semaphore = asyncio.Semaphore(concurrency)

    async def run(c: SetDevicePublicKey) -> None:
        async with semaphore:
            await bus.execute(c)

    await asyncio.gather(*(run(c) for c in pending))
    elapsed = time.perf_counter() - started
    bus.stop()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=500)
    args = parser.parse_args()
    settings = settings_from(deployment_flags(args))
    store = EventStore(settings)
    bus = CommandBus(store.app, HANDLERS, settings.max_batch_size)
    # Each first command on a device records two events (Registered, PublicKeySet).
    single = one_per_commit(bus, args.count)
    batched = asyncio.run(grouped(bus, args.count, args.concurrency))
    print(f"deployment: {deployment_name(args)}")
    rate = args.count / single
    print(f"one command per commit: {rate:,.0f} commands/s ({2 * rate:,.0f} events/s)")
    print(
        f"group commit, {args.concurrency} in flight: {args.count / batched:,.0f} commands/s "
        f"({args.count / batched:,.0f} events/s)"
    )


if __name__ == "__main__":
    main()
