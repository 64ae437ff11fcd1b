"""What the CLI's commands run on: the store, the bus and the views, without a server.

A command decides and saves in its own thread (the bus is not started), so it works
whether or not `hubline serve` runs against the same store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.command_bus import CommandBus
from infra.identity.secret_box import SecretBox, master_key
from infra.identity.signing_keys import SigningKeys
from infra.root.services import HANDLERS, all_projections, signing_keys
from infra.settings import Settings
from infra.store.aggregates import AggregateLoader
from infra.store.event_store import EventStore
from infra.store.natural_keys import NaturalKeys
from infra.store.projection_runner import ProjectionRunner
from infra.store.view_database import ViewDatabase

if TYPE_CHECKING:
    # Kafka's client loads only for the commands that use it.
    from infra.log.kafka_relay import KafkaRelay
    from infra.log.kafka_worker import KafkaProjectionWorker


@dataclass(frozen=True)
class Administration:
    settings: Settings
    store: EventStore
    bus: CommandBus
    natural_keys: NaturalKeys

    def signing_keys(self) -> SigningKeys:
        box = SecretBox(master_key(self.settings))
        return signing_keys(self.settings, AggregateLoader(self.store), self.bus, box)


def administration(settings: Settings) -> Administration:
    store = EventStore(settings)
    natural_keys = NaturalKeys(AggregateLoader(store))
    return Administration(settings, store, CommandBus(store.app, HANDLERS), natural_keys)


@dataclass(frozen=True)
class Projections:
    store: EventStore
    runner: ProjectionRunner


def projections(settings: Settings, applies: bool) -> Projections:
    """The views; `applies=False` only reads them (a view of another version is left alone)."""
    runner = ProjectionRunner(ViewDatabase(settings), all_projections(), applies=applies)
    return Projections(EventStore(settings), runner)


def event_store(settings: Settings) -> EventStore:
    return EventStore(settings)


def relay(settings: Settings) -> KafkaRelay:
    from infra.log.kafka_relay import KafkaRelay

    return KafkaRelay(settings, EventStore(settings), ViewDatabase(settings))


def projection_worker(settings: Settings) -> KafkaProjectionWorker:
    from infra.log.kafka_worker import KafkaProjectionWorker
    from infra.pusher.webhooks import WebhookSender, read_app

    parts = projections(settings, applies=True)
    aggregates = AggregateLoader(parts.store)
    box = SecretBox(master_key(settings))
    webhooks = WebhookSender(parts.runner.views, lambda app_id: read_app(aggregates, box, app_id))
    return KafkaProjectionWorker(settings, parts.store, parts.runner, webhooks)
