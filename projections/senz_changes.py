"""Who is told what on SENZ's change-notification hub: the owner, of their account and thermostats.

SENZ's Notify carries {type, id, timeStamp}: type 1 UserAccount (id = account id),
type 2 Thermostat (id = serial number).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from domain.identity.user import User
from domain.thermostats.thermostat import Thermostat
from projections.records import LogRecord

USER_ACCOUNT, THERMOSTAT = 1, 2

_THERMOSTAT_CHANGES = (
    Thermostat.Registered,
    Thermostat.ModeChanged,
    Thermostat.HoldExpired,
    Thermostat.Connected,
    Thermostat.Disconnected,
    Thermostat.Reported,
)
# "Account settings changed", in the seed's sample: what GET /Account shows, and the
# password and consents behind the account.
_ACCOUNT_CHANGES = (User.SettingsChanged, User.PasswordChanged, User.ConsentGranted)


@dataclass(frozen=True)
class SenzChange:
    # The account id of the one user told.
    user: str
    # The item of SENZ's Notify.
    item: dict[str, Any]


def change_of(record: LogRecord) -> SenzChange | None:
    stamp = record.timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(record.event, _THERMOSTAT_CHANGES):
        payload = record.payload
        item = {"type": THERMOSTAT, "id": payload["serial_number"], "timeStamp": stamp}
        return SenzChange(str(payload["owner"]), item)
    if isinstance(record.event, _ACCOUNT_CHANGES):
        item = {"type": USER_ACCOUNT, "id": record.aggregate_id, "timeStamp": stamp}
        return SenzChange(record.aggregate_id, item)
    return None
