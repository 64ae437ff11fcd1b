"""Append throughput: one command per transaction, and group commit under concurrency.

python -m bench.append_throughput [--postgres URL] [--count N] [--anchor-seconds N]

Anchors, measured in the same run (bench/anchors.py): raw inserts of rows shaped like stored
events into the same kind of store, 1 and 100 rows per transaction. Group commit records one
event per command (the devices exist by then), so its commands/s compare with rows/s.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.anchors import (
    drop_postgres_database,
    ratio,
    raw_postgres_rows_per_second,
    raw_sqlite_rows_per_second,
)
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


async def grouped(bus: CommandBus, count: int, concurrency: int, round_: str = "grouped") -> float:
    """`concurrency` clients, each sending its next command when the last is answered.

    One task per client, not per command: the client's own asyncio work shares the
    interpreter with the bus, and a task and a semaphore wake-up per command cost it
    about a fifth of the bus's figure.
    """
    bus.start()
    pending = iter([command(n, round_) for n in range(count)])

    async def client() -> None:
        for c in pending:
            await bus.execute(c)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    bus.stop()
    return elapsed


def raw_rows_per_second(args: argparse.Namespace, batch: int) -> float:
    if args.postgres:
        return raw_postgres_rows_per_second(args.postgres, batch, args.anchor_seconds)
    return raw_sqlite_rows_per_second(batch, args.anchor_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--anchor-seconds", type=float, default=5.0)
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
    store.close()
    if settings.database is not None:
        drop_postgres_database(settings.database)
    kind = "PostgreSQL" if args.postgres else "SQLite"
    for batch, figure, name in (
        (1, rate, "one command per commit"),
        (100, args.count / batched, "group commit"),
    ):
        anchor = raw_rows_per_second(args, batch)
        print(
            f"anchor, raw {kind} rows, {batch} per transaction: {anchor:,.0f} rows/s; "
            f"{name}/anchor {ratio(figure, anchor)}"
        )


if __name__ == "__main__":
    main()
