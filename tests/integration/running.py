"""An in-process deployment for integration tests, with relay and worker if distributed."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from infra.root.services import Services, all_projections
from infra.settings import Settings
from infra.store.event_store import EventStore
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase


class Background:
    """A relay or projection worker on its own thread, as `hubline relay|project` would run it."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.thread = threading.Thread(target=target.run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.target.stop()
        self.thread.join(timeout=10)
        self.target.close()


def settings_for(flags: dict[str, str]) -> Settings:
    return Settings.load(flags, environ={})


def start_relay(settings: Settings) -> Background:
    from infra.log.kafka_relay import KafkaRelay

    relay = Background(KafkaRelay(settings, EventStore(settings), ViewDatabase(settings)))
    relay.start()
    return relay


def start_worker(settings: Settings) -> Background:
    from infra.log.kafka_worker import KafkaProjectionWorker

    runner = ProjectionRunner(ViewDatabase(settings), all_projections())
    worker = Background(KafkaProjectionWorker(settings, EventStore(settings), runner))
    worker.start()
    return worker


@asynccontextmanager
async def running_hub(flags: dict[str, str]) -> AsyncIterator[Services]:
    settings = settings_for(flags)
    hub = Services(settings)
    background: list[Background] = []
    if settings.log == "kafka":
        background = [start_relay(settings), start_worker(settings)]
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()
        for item in background:
            item.stop()


async def eventually(check: Callable[[], bool], within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
