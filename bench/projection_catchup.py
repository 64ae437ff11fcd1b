"""Projection catch-up: how fast every view is rebuilt from position 0.

python -m bench.projection_catchup [--postgres URL] [--count N]

Anchor, measured in the same run (bench/anchors.py): orjson decode of the same stored
events' states, the catch-up's lower bound on parsing alone. Events per CPU second of this
process are printed too: on a shared machine they move less than wall time (SQLite's work is
in-process; PostgreSQL's is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.anchors import drop_postgres_database, orjson_decode_records_per_second, ratio
from bench.append_throughput import grouped
from bench.deployments import (
    add_deployment_arguments,
    deployment_flags,
    deployment_name,
    settings_from,
)
from infra.command_bus import CommandBus
from infra.root.services import HANDLERS, all_projections
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()
    settings = settings_from(deployment_flags(args))
    store = EventStore(settings)
    try:
        asyncio.run(
            grouped(CommandBus(store.app, HANDLERS, settings.max_batch_size), args.count, 500)
        )
        head = store.head()
        runner = ProjectionRunner(ViewDatabase(settings), all_projections())
        started, cpu = time.perf_counter(), time.process_time()
        applied = runner.catch_up(store)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        runner.views.close()
        states = [n.state for n in store.app.recorder.select_notifications(start=1, limit=head)]
        anchor = orjson_decode_records_per_second(states)
    finally:
        store.close()
        if settings.database is not None:
            drop_postgres_database(settings.database)
    print(f"deployment: {deployment_name(args)}")
    print(
        f"catch-up of {len(runner.projections)} views over {head} events: "
        f"{applied / elapsed:,.0f} events/s ({elapsed:.2f} s;"
        f" {applied / cpu:,.0f} events per CPU second of this process)"
    )
    print(
        f"anchor, orjson decode of the same {len(states)} stored states: {anchor:,.0f} records/s;"
        f" catch-up/anchor {ratio(applied / elapsed, anchor)}"
    )


if __name__ == "__main__":
    main()
