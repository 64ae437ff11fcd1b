"""A hub's link to the gateway: its connection, firmware, latency, what it is told to do
besides controls (restart, emergency stop, captive portal), and its firmware updates (OTA).

Kept apart from `Hub` so that a hub reporting in never contends with its owner's REST edits.
Each websocket is a session with an id of its own; one connection per hub, so a `Connected`
with a new session ends the old one wherever it is held, and only the current session's
reports and goodbye are recorded (a reconnect racing the old socket's close stays online).
A hub is online from its session's first latency measurement (its first Pong), as the real
gateway counts it, until that session ends. Every event names its hub, so that whoever reads
the log (a gateway, an auditor) knows whose it is without the link's state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]


class TriggerKind:
    """What a hub is told besides controls; the number is the hub protocol's TriggerType."""

    RESTART = 0
    EMERGENCY_STOP = 1
    CAPTIVE_PORTAL_ENABLE = 2
    CAPTIVE_PORTAL_DISABLE = 3


class BootType:
    NORMAL = 0
    NEW_FIRMWARE = 1
    ROLLBACK = 2


class OtaStatus:
    """An update's state as GET /1/devices/{id}/ota names it."""

    STARTED = "Started"
    RUNNING = "Running"
    FINISHED = "Finished"
    ERROR = "Error"
    TIMEOUT = "Timeout"


class HubLink(Aggregate):
    Opened: ClassVar[type[Aggregate.Created]]
    Connected: ClassVar[type[Aggregate.Event]]
    LatencyMeasured: ClassVar[type[Aggregate.Event]]
    Booted: ClassVar[type[Aggregate.Event]]
    Disconnected: ClassVar[type[Aggregate.Event]]
    Triggered: ClassVar[type[Aggregate.Event]]
    OtaRequested: ClassVar[type[Aggregate.Event]]
    OtaStarted: ClassVar[type[Aggregate.Event]]
    OtaProgressed: ClassVar[type[Aggregate.Event]]
    OtaFailed: ClassVar[type[Aggregate.Event]]
    OtaSucceeded: ClassVar[type[Aggregate.Event]]
    OtaRolledBack: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(hub_id: str, **_: Any) -> UUID:
        return hub_link_id(hub_id)

    @event("Opened")
    def __init__(self, hub_id: str, owner_id: str, meta: Metadata) -> None:
        self.hub_id = hub_id
        self.owner_id = owner_id
        self.session_id: str | None = None
        self.node_id: str | None = None
        self.schema = 0
        self.online = False
        self.firmware_version: str | None = None
        self.user_agent: str | None = None
        self.latency_ms = 0
        self.rssi = 0
        # Each firmware update's status by its id (as text: the state is stored as JSON).
        self.updates: dict[str, str] = {}

    @event("Connected")
    def connect(
        self,
        hub_id: str,
        session_id: str,
        node_id: str,
        schema: int,
        firmware_version: str,
        user_agent: str,
        meta: Metadata,
    ) -> None:
        self.session_id = session_id
        self.node_id = node_id
        self.schema = schema
        self.online = False
        self.firmware_version = firmware_version
        self.user_agent = user_agent

    @event("LatencyMeasured")
    def measure(
        self, hub_id: str, session_id: str, latency_ms: int, rssi: int, meta: Metadata
    ) -> None:
        self.online = True
        self.latency_ms = latency_ms
        self.rssi = rssi

    @event("Booted")
    def boot(
        self,
        hub_id: str,
        session_id: str,
        boot_type: int,
        firmware_version: str,
        ota_update_id: int,
        meta: Metadata,
    ) -> None:
        self.firmware_version = firmware_version

    @event("Disconnected")
    def disconnect(self, hub_id: str, session_id: str, reason: str, meta: Metadata) -> None:
        self.session_id = None
        self.node_id = None
        self.online = False

    @event("Triggered")
    def trigger(self, hub_id: str, kind: int, meta: Metadata) -> None:
        pass

    @event("OtaRequested")
    def request_ota(self, hub_id: str, version: str, meta: Metadata) -> None:
        # The update gets its id from the hub, when it reports having started it.
        pass

    @event("OtaStarted")
    def start_ota(
        self, hub_id: str, update_id: int, version: str, at: datetime, meta: Metadata
    ) -> None:
        # Also an update the hub began on its own (through its local portal).
        self.updates[str(update_id)] = OtaStatus.RUNNING

    @event("OtaProgressed")
    def progress_ota(
        self, hub_id: str, update_id: int, task: int, progress: float, meta: Metadata
    ) -> None:
        pass

    @event("OtaFailed")
    def fail_ota(
        self, hub_id: str, update_id: int, message: str, fatal: bool, meta: Metadata
    ) -> None:
        if str(update_id) in self.updates:
            self.updates[str(update_id)] = OtaStatus.ERROR

    @event("OtaSucceeded")
    def finish_ota(self, hub_id: str, update_id: int, meta: Metadata) -> None:
        if str(update_id) in self.updates:
            self.updates[str(update_id)] = OtaStatus.FINISHED

    @event("OtaRolledBack")
    def roll_back_ota(self, hub_id: str, update_id: int, meta: Metadata) -> None:
        if str(update_id) in self.updates:
            self.updates[str(update_id)] = OtaStatus.ERROR

    def holds(self, session_id: str) -> bool:
        return self.session_id is not None and self.session_id == session_id

    def is_pending(self, update_id: int) -> bool:
        return self.updates.get(str(update_id)) in (OtaStatus.STARTED, OtaStatus.RUNNING)


def hub_link_id(hub_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:openshock-hub-link:{hub_id}")
