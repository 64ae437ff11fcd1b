"""Which OpenShock hubs are online, with what firmware, and their firmware updates: what
DeviceStatus, /1/public/stats, /1/devices/{id}/lcg and /1/devices/{id}/ota answer.

A hub is online from its session's first latency measurement until that session ends; a
new session (the hub reconnected, maybe through another node) starts offline again until
its first Pong, as the real gateway counts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.openshock.hub_link import HubLink, OtaStatus, hub_link_id
from projections.openshock_shapes import utc_text, utc_time
from projections.records import LogRecord
from projections.view_store import ViewTransaction, apply_by_aggregate

LINKS_TABLE = "view_openshock_hub_links"
OTA_TABLE = "view_openshock_ota_updates"

_LINK_COLUMNS = "hub_id, owner_id, online, firmware_version, latency_ms, rssi, node_id"

_OPENED = HubLink.Opened.__qualname__
_CONNECTED = HubLink.Connected.__qualname__
_MEASURED = HubLink.LatencyMeasured.__qualname__
_BOOTED = HubLink.Booted.__qualname__
_DISCONNECTED = HubLink.Disconnected.__qualname__
_OTA_STARTED = HubLink.OtaStarted.__qualname__
_OTA_FAILED = HubLink.OtaFailed.__qualname__
_OTA_SUCCEEDED = HubLink.OtaSucceeded.__qualname__
_OTA_ROLLED_BACK = HubLink.OtaRolledBack.__qualname__
_TYPES = frozenset(
    {
        _OPENED,
        _CONNECTED,
        _MEASURED,
        _BOOTED,
        _DISCONNECTED,
        _OTA_STARTED,
        _OTA_FAILED,
        _OTA_SUCCEEDED,
        _OTA_ROLLED_BACK,
    }
)
ROLLED_BACK_MESSAGE = "Update rolled back"


@dataclass(frozen=True)
class HubStatus:
    hub_id: str
    owner_id: str
    online: bool
    firmware_version: str | None
    latency_ms: int
    rssi: int
    node_id: str | None


@dataclass(frozen=True)
class OtaRow:
    update_id: int
    started_at: datetime
    status: str
    version: str
    message: str | None


class OpenShockHubLinkView:
    name = "openshock_hub_links"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {LINKS_TABLE} ("
            " link_id TEXT PRIMARY KEY, hub_id TEXT NOT NULL, owner_id TEXT NOT NULL,"
            " session_id TEXT, node_id TEXT, online INTEGER NOT NULL,"
            " firmware_version TEXT, user_agent TEXT, latency_ms INTEGER NOT NULL,"
            " rssi INTEGER NOT NULL, connected_at TEXT, booted_at TEXT)",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {LINKS_TABLE}_hub ON {LINKS_TABLE} (hub_id)",
            f"CREATE INDEX IF NOT EXISTS {LINKS_TABLE}_online ON {LINKS_TABLE} (online)",
            f"CREATE TABLE IF NOT EXISTS {OTA_TABLE} ("
            " link_id TEXT NOT NULL, update_id INTEGER NOT NULL, version TEXT NOT NULL,"
            " started_at TEXT NOT NULL, status TEXT NOT NULL, message TEXT,"
            " PRIMARY KEY (link_id, update_id))",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {LINKS_TABLE}", f"DROP TABLE IF EXISTS {OTA_TABLE}"]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        # Rows are their link's own: a batch's statements go out grouped.
        apply_by_aggregate(self.apply, [r for r in records if r.type in _TYPES], tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        kind, payload, key = record.type, record.payload, record.aggregate_id
        at = utc_text(record.timestamp)
        if kind == _OPENED:
            tx.execute(
                f"INSERT INTO {LINKS_TABLE} (link_id, hub_id, owner_id, online, latency_ms, rssi)"
                " VALUES (?, ?, ?, 0, 0, 0) ON CONFLICT (link_id) DO NOTHING",
                (key, payload["hub_id"], payload["owner_id"]),
            )
        elif kind == _CONNECTED:
            tx.execute(
                f"UPDATE {LINKS_TABLE} SET session_id = ?, node_id = ?, online = 0,"
                " firmware_version = ?, user_agent = ?, connected_at = ? WHERE link_id = ?",
                (
                    payload["session_id"],
                    payload["node_id"],
                    payload["firmware_version"],
                    payload["user_agent"],
                    at,
                    key,
                ),
            )
        elif kind == _MEASURED:
            tx.execute(
                f"UPDATE {LINKS_TABLE} SET online = 1, latency_ms = ?, rssi = ? WHERE link_id = ?",
                (payload["latency_ms"], payload["rssi"], key),
            )
        elif kind == _BOOTED:
            tx.execute(
                f"UPDATE {LINKS_TABLE} SET firmware_version = ?, booted_at = ? WHERE link_id = ?",
                (payload["firmware_version"], at, key),
            )
        elif kind == _DISCONNECTED:
            tx.execute(
                f"UPDATE {LINKS_TABLE} SET session_id = NULL, node_id = NULL, online = 0"
                " WHERE link_id = ?",
                (key,),
            )
        elif kind == _OTA_STARTED:
            # The hub names the update when it starts it, as the real firmware does.
            tx.execute(
                f"INSERT INTO {OTA_TABLE} (link_id, update_id, version, started_at, status)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (link_id, update_id)"
                " DO UPDATE SET status = excluded.status",
                (key, payload["update_id"], payload["version"], at, OtaStatus.RUNNING),
            )
        elif kind in (_OTA_FAILED, _OTA_ROLLED_BACK):
            message = payload["message"] if kind == _OTA_FAILED else ROLLED_BACK_MESSAGE
            tx.execute(
                f"UPDATE {OTA_TABLE} SET status = ?, message = ?"
                " WHERE link_id = ? AND update_id = ?",
                (OtaStatus.ERROR, message, key, payload["update_id"]),
            )
        elif kind == _OTA_SUCCEEDED:
            tx.execute(
                f"UPDATE {OTA_TABLE} SET status = ? WHERE link_id = ? AND update_id = ?",
                (OtaStatus.FINISHED, key, payload["update_id"]),
            )


def hub_statuses(tx: ViewTransaction, hub_ids: Sequence[str]) -> list[HubStatus]:
    """The hubs' states; a hub that never connected is offline with no firmware."""
    if not hub_ids:
        return []
    marks = ", ".join("?" for _ in hub_ids)
    rows = tx.fetchall(
        f"SELECT {_LINK_COLUMNS} FROM {LINKS_TABLE} WHERE hub_id IN ({marks})", tuple(hub_ids)
    )
    return [_status(r) for r in rows]


def hub_status(tx: ViewTransaction, hub_id: str) -> HubStatus | None:
    found = hub_statuses(tx, [hub_id])
    return found[0] if found else None


def online_count(tx: ViewTransaction) -> int:
    """GET /1/public/stats: devicesOnline."""
    rows = tx.fetchall(f"SELECT COUNT(*) FROM {LINKS_TABLE} WHERE online = 1")
    return int(rows[0][0])


def ota_history(tx: ViewTransaction, hub_id: str) -> list[OtaRow]:
    """GET /1/devices/{id}/ota: newest first."""
    rows = tx.fetchall(
        f"SELECT update_id, started_at, status, version, message FROM {OTA_TABLE}"
        " WHERE link_id = ? ORDER BY update_id DESC",
        (str(hub_link_id(hub_id)),),
    )
    return [
        OtaRow(
            update_id=int(r[0]),
            started_at=utc_time(r[1]),
            status=str(r[2]),
            version=str(r[3]),
            message=None if r[4] is None else str(r[4]),
        )
        for r in rows
    ]


def _status(r: tuple[Any, ...]) -> HubStatus:
    return HubStatus(
        hub_id=str(r[0]),
        owner_id=str(r[1]),
        online=bool(r[2]),
        firmware_version=None if r[3] is None else str(r[3]),
        latency_ms=int(r[4]),
        rssi=int(r[5]),
        node_id=None if r[6] is None else str(r[6]),
    )


def held_sessions(tx: ViewTransaction) -> list[tuple[str, str, str]]:
    """(hub id, session id, node id) of every hub some node says it holds."""
    rows = tx.fetchall(
        f"SELECT hub_id, session_id, node_id FROM {LINKS_TABLE}"
        " WHERE session_id IS NOT NULL AND node_id IS NOT NULL"
    )
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]
