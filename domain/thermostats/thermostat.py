"""A SENZ thermostat: who owns it, how it is told to heat, and what it last reported."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

Metadata = dict[str, Any]

DEFAULT_SET_POINT = 2000  # hundredths of °C
# The session of events stored before sessions had ids; there was at most one at a time.
LEGACY_SESSION = ""


class Mode(IntEnum):
    """The numbers SENZ's API uses for its modes."""

    AUTO = 1
    HOLD = 2
    MANUAL = 3
    HOLIDAY = 4
    OFF = 5


class Thermostat(Aggregate):
    """Keyed by serial number. Temperatures are integers in hundredths of °C, as SENZ sends them."""

    # The events below, declared so that projections can name them by class.
    Registered: ClassVar[type[Aggregate.Event]]
    ModeChanged: ClassVar[type[Aggregate.Event]]
    HoldExpired: ClassVar[type[Aggregate.Event]]
    Reported: ClassVar[type[Aggregate.Event]]
    ScheduleSet: ClassVar[type[Aggregate.Event]]

    # Version 2: thermostats track their live device sessions instead of one online flag
    # (a snapshot of version 1 has only the flag).
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["live_sessions"] = [LEGACY_SESSION] if state.pop("online", False) else []

    class Connected(Aggregate.Event):
        """A device session opened (or, unseen, proved it is alive by reporting)."""

        class_version = 2
        serial_number: str
        owner: str
        session_id: str
        meta: Metadata

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["session_id"] = LEGACY_SESSION

    class Disconnected(Aggregate.Event):
        """A device session closed; `ended` is it and the older sessions it superseded."""

        class_version = 2
        serial_number: str
        owner: str
        session_id: str
        ended: list[str]
        meta: Metadata

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["session_id"] = LEGACY_SESSION
            state["ended"] = [LEGACY_SESSION]

    @staticmethod
    def create_id(serial_number: str, **_: Any) -> UUID:
        return thermostat_id(serial_number)

    @event("Registered")
    def __init__(self, serial_number: str, owner: str, name: str, meta: Metadata) -> None:
        self.serial_number = serial_number
        self.owner = owner
        self.name = name
        # Kept as SENZ's number (a Mode value), so the state is plain data for snapshots.
        self.mode: int = Mode.AUTO.value
        self.set_point = DEFAULT_SET_POINT
        self.hold_until: datetime | None = None
        self.last_hold_set_point = DEFAULT_SET_POINT
        self.current_temperature = DEFAULT_SET_POINT
        self.is_heating = False
        # Ids of the device sessions that are open, oldest first.
        self.live_sessions: list[str] = []
        self.error_state: str | None = None
        self.schedule: list[dict[str, Any]] = []

    def change_mode(
        self, mode: int, set_point: int, hold_until: datetime | None, meta: Metadata
    ) -> None:
        self._mode_changed(self.serial_number, self.owner, mode, set_point, hold_until, meta)

    @event("ModeChanged")
    def _mode_changed(
        self,
        serial_number: str,
        owner: str,
        mode: int,
        set_point: int,
        hold_until: datetime | None,
        meta: Metadata,
    ) -> None:
        # Serial and owner ride along so that notifications need no view.
        self.mode = Mode(mode).value
        self.set_point = set_point
        self.hold_until = hold_until
        if mode == Mode.HOLD:
            self.last_hold_set_point = set_point

    def expire_hold(self, set_point: int, meta: Metadata) -> None:
        self._hold_expired(self.serial_number, self.owner, set_point, meta)

    @event("HoldExpired")
    def _hold_expired(self, serial_number: str, owner: str, set_point: int, meta: Metadata) -> None:
        self.mode = Mode.AUTO.value
        self.set_point = set_point
        self.hold_until = None

    @property
    def online(self) -> bool:
        return bool(self.live_sessions)

    def connect(self, session_id: str, meta: Metadata) -> None:
        if session_id not in self.live_sessions:
            self._connected(self.serial_number, self.owner, session_id, meta)

    @event(Connected)
    def _connected(self, serial_number: str, owner: str, session_id: str, meta: Metadata) -> None:
        self.live_sessions = [*self.live_sessions, session_id]

    def disconnect(self, session_id: str, meta: Metadata) -> None:
        """End a session; closing one that is not live (or no longer) changes nothing.

        A device uses its newest session, so the sessions it opened before the one that
        closed end with it: a session whose node died never sends its own disconnect and
        would otherwise keep the thermostat online for good. A superseded session that is
        in fact alive is live again with its next report (see `report`).
        """
        if session_id in self.live_sessions:
            ended = self.live_sessions[: self.live_sessions.index(session_id) + 1]
            self._disconnected(self.serial_number, self.owner, session_id, ended, meta)

    @event(Disconnected)
    def _disconnected(
        self, serial_number: str, owner: str, session_id: str, ended: list[str], meta: Metadata
    ) -> None:
        self.live_sessions = [s for s in self.live_sessions if s not in ended]

    def report(
        self,
        session_id: str,
        current_temperature: int,
        is_heating: bool,
        error_state: str | None,
        meta: Metadata,
    ) -> bool:
        """Record what the device measured; an unchanged report records nothing.

        A session that reports is alive: one that a newer session's close ended is live again.
        """
        self.connect(session_id, meta)
        unchanged = (current_temperature, is_heating, error_state) == (
            self.current_temperature,
            self.is_heating,
            self.error_state,
        )
        if not unchanged:
            self._reported(
                self.serial_number, self.owner, current_temperature, is_heating, error_state, meta
            )
        return not unchanged

    @event("Reported")
    def _reported(
        self,
        serial_number: str,
        owner: str,
        current_temperature: int,
        is_heating: bool,
        error_state: str | None,
        meta: Metadata,
    ) -> None:
        self.current_temperature = current_temperature
        self.is_heating = is_heating
        self.error_state = error_state

    def set_schedule(self, entries: list[dict[str, Any]], meta: Metadata) -> None:
        self._schedule_set(self.serial_number, self.owner, entries, meta)

    @event("ScheduleSet")
    def _schedule_set(
        self, serial_number: str, owner: str, entries: list[dict[str, Any]], meta: Metadata
    ) -> None:
        self.schedule = list(entries)

    def follow_schedule(self, set_point: int, meta: Metadata) -> None:
        """In Auto, take the schedule's set point; recorded as a mode change the device obeys."""
        if self.mode == Mode.AUTO and set_point != self.set_point:
            self._mode_changed(self.serial_number, self.owner, Mode.AUTO, set_point, None, meta)


def thermostat_id(serial_number: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hubline:thermostat:{serial_number.strip().upper()}")
