"""Kafka catch-up: how fast a projection worker fills fresh PostgreSQL views from a topic.

python -m bench.kafka_catchup --postgres URL --kafka HOST:PORT [--count N]

Fills the log of a scratch database (N commands, 2N events), relays it to a fresh topic,
then times a projection worker consuming that topic from offset 0 into fresh views (not the
store catch-up a worker does first: that is bench.projection_catchup --postgres). Anchor,
measured in the same run (bench/anchors.py): orjson decode of the same stored states. The
scratch database, topic and consumer group are dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from confluent_kafka.admin import AdminClient

from bench.anchors import drop_postgres_database, orjson_decode_records_per_second, ratio
from bench.append_throughput import grouped
from bench.deployments import add_deployment_arguments, deployment_flags, settings_from
from infra.command_bus import CommandBus
from infra.log.kafka_relay import KafkaRelay
from infra.log.kafka_worker import KafkaProjectionWorker
from infra.root.services import HANDLERS, all_projections
from infra.settings import Settings
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase

RELAY_BATCH = 5000


def relay_all(settings: Settings, store: EventStore, head: int) -> float:
    relay = KafkaRelay(settings, store, ViewDatabase(settings))
    started = time.perf_counter()
    try:
        while relay.position() < head:
            relay.relay_once(limit=RELAY_BATCH)
    finally:
        relay.close()
    return time.perf_counter() - started


def consume_all(
    settings: Settings, store: EventStore, head: int, timeout: float
) -> tuple[float, float]:
    """Seconds, and CPU seconds of this process, from the worker's first poll until every
    view has applied `head`."""
    runner = ProjectionRunner(ViewDatabase(settings), all_projections())
    worker = KafkaProjectionWorker(settings, store, runner)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        deadline = started + timeout
        while runner.lowest_position() < head:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"views at {runner.lowest_position()} of {head}")
            worker.poll_and_apply()
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        worker.close()
        runner.views.close()


def drop_topic(settings: Settings) -> None:
    # Warnings and errors only: librdkafka's info lines would land in the bench's output.
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 4})
    group = f"hubline-projections.{settings.kafka_topic}"
    for done in (
        *admin.delete_topics([settings.kafka_topic], request_timeout=30).values(),
        *admin.delete_consumer_groups([group], request_timeout=30).values(),
    ):
        done.result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    if not (args.postgres and args.kafka):
        parser.error("--postgres and --kafka are both needed")
    settings = settings_from(deployment_flags(args))
    assert settings.database is not None
    store = EventStore(settings)
    try:
        asyncio.run(
            grouped(CommandBus(store.app, HANDLERS, settings.max_batch_size), args.count, 500)
        )
        head = store.head()
        relayed = relay_all(settings, store, head)
        elapsed, cpu = consume_all(settings, store, head, args.timeout)
        states = [n.state for n in store.app.recorder.select_notifications(start=1, limit=head)]
        anchor = orjson_decode_records_per_second(states)
    finally:
        store.close()
        drop_topic(settings)
        drop_postgres_database(settings.database)
    print("deployment: distributed (PostgreSQL + Kafka)")
    print(f"relayed {head} events to a fresh topic in {relayed:.2f} s")
    print(
        f"Kafka catch-up of {len(all_projections())} views over {head} events: "
        f"{head / elapsed:,.0f} events/s ({elapsed:.2f} s; {head / cpu:,.0f} events per CPU"
        " second of this process)"
    )
    print(
        f"anchor, orjson decode of the same {len(states)} stored states: {anchor:,.0f} records/s;"
        f" Kafka catch-up/anchor {ratio(head / elapsed, anchor)}"
    )


if __name__ == "__main__":
    main()
