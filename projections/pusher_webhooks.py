"""Who is told what by webhook: the events of Pusher apps' webhooks, decided once for the
whole cluster by the one consumer of the log that keeps the views.

Every node reports its own members and occupied channels (`PusherNode` events); only here
are they added up in log order, so `channel_occupied` is said when the first node gets a
subscriber and `channel_vacated` when the last one loses its last, `member_added` on a
user's first node and `member_removed` on its last, whatever the number of nodes. What an
app's webhooks ask for (event types, channel prefix) is matched here too, and each match
becomes a row of the outbox, in the same transaction as the view's position: a restart
neither loses nor repeats one. The sender (infra/pusher/webhooks.py) batches the rows per
endpoint, signs, posts, retries and deletes them once delivered: at least once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from domain.pusher.client_events import PusherClientEvent
from domain.pusher.presence import PusherNode
from domain.pusher.pusher_app import PusherApp
from projections.pusher_presence_view import NodeChange, node_change
from projections.records import LogRecord
from projections.view_store import ViewTransaction

OUTBOX = "pusher_webhook_outbox"
_MEMBERS = "pusher_cluster_members"
_CHANNELS = "pusher_cluster_channels"
_HOOKS = "pusher_webhook_targets"
# Pusher's own clients refuse a webhook whose time_ms is more than 300 s old, and Pusher
# gives up retrying after 5 minutes: a record older than that (a rebuild replaying the
# log) is not sent again.
MAX_AGE_SECONDS = 300.0

_APP_HOOKS = (PusherApp.Created.__qualname__, PusherApp.WebhooksSet.__qualname__)
_CLIENT_EVENT = PusherClientEvent.Sent.__qualname__
_NODE_PREFIX = PusherNode.__qualname__ + "."


@dataclass(frozen=True)
class OutboxRow:
    position: int
    seq: int
    app_id: str
    url: str
    # The event as the webhook's body lists it.
    event: dict[str, Any]
    attempts: int
    # When the event happened (ms since the epoch): Pusher gives up 5 minutes after.
    time_ms: int


class PusherWebhooks:
    name = "pusher_webhooks"
    version = 1

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {_HOOKS}"
            " (app_id TEXT PRIMARY KEY, webhooks TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {_MEMBERS} (app_id TEXT NOT NULL, channel TEXT NOT NULL,"
            " user_id TEXT NOT NULL, node_id TEXT NOT NULL,"
            " PRIMARY KEY (app_id, channel, user_id, node_id))",
            f"CREATE INDEX IF NOT EXISTS {_MEMBERS}_node ON {_MEMBERS} (node_id)",
            f"CREATE TABLE IF NOT EXISTS {_CHANNELS} (app_id TEXT NOT NULL, channel TEXT NOT NULL,"
            " node_id TEXT NOT NULL, subscriptions BIGINT NOT NULL,"
            " PRIMARY KEY (app_id, channel, node_id))",
            f"CREATE INDEX IF NOT EXISTS {_CHANNELS}_node ON {_CHANNELS} (node_id)",
            f"CREATE TABLE IF NOT EXISTS {OUTBOX} (position BIGINT NOT NULL, seq INTEGER NOT NULL,"
            " app_id TEXT NOT NULL, url TEXT NOT NULL, event TEXT NOT NULL,"
            " time_ms BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
            " due_ms BIGINT NOT NULL DEFAULT 0, claimed_until_ms BIGINT NOT NULL DEFAULT 0,"
            " PRIMARY KEY (position, seq))",
            f"CREATE INDEX IF NOT EXISTS {OUTBOX}_due ON {OUTBOX} (due_ms)",
        ]

    def drop_statements(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {t}" for t in (_HOOKS, _MEMBERS, _CHANNELS, OUTBOX)]

    def apply_batch(self, records: Sequence[LogRecord], tx: ViewTransaction) -> None:
        for record in records:
            if record.type.startswith(("PusherNode.", "PusherApp.", "PusherClientEvent.")):
                self.apply(record, tx)

    def apply(self, record: LogRecord, tx: ViewTransaction) -> None:
        if record.type in _APP_HOOKS:
            tx.execute(
                f"INSERT INTO {_HOOKS} (app_id, webhooks) VALUES (?, ?)"
                " ON CONFLICT (app_id) DO UPDATE SET webhooks = excluded.webhooks",
                (record.payload["app_id"], orjson.dumps(record.payload["webhooks"]).decode()),
            )
            return
        events: list[tuple[str, dict[str, Any]]] = []
        if record.type == _CLIENT_EVENT:
            events.append((record.payload["app_id"], _client_event(record.payload)))
        elif record.type.startswith(_NODE_PREFIX):
            change = node_change(record)
            if change is not None:
                events.extend(self._presence(change, tx))
        if events and time.time() - record.timestamp.timestamp() < MAX_AGE_SECONDS:
            self._enqueue(record, events, tx)

    def _presence(
        self, change: NodeChange, tx: ViewTransaction
    ) -> list[tuple[str, dict[str, Any]]]:
        kind, app_id, channel = change.kind, change.app_id, change.channel
        if kind == "joined":
            return self._join(change.node_id, app_id, channel, change.user_id, tx)
        if kind == "left":
            return self._leave(change.node_id, app_id, channel, change.user_id, tx)
        if kind in ("occupied", "vacated", "counted"):
            count = {"occupied": 1, "vacated": 0}.get(kind, max(1, change.count))
            return self._count(change.node_id, app_id, channel, count, tx, kind == "counted")
        if kind == "cache_miss":
            return [(app_id, {"name": "cache_miss", "channel": channel})]
        if kind == "ended":
            events: list[tuple[str, dict[str, Any]]] = []
            for app_id, channel, user_id in tx.fetchall(
                f"SELECT app_id, channel, user_id FROM {_MEMBERS} WHERE node_id = ?",
                (change.node_id,),
            ):
                events.extend(self._leave(change.node_id, app_id, channel, user_id, tx))
            for app_id, channel in tx.fetchall(
                f"SELECT app_id, channel FROM {_CHANNELS} WHERE node_id = ?", (change.node_id,)
            ):
                events.extend(self._count(change.node_id, app_id, channel, 0, tx, False))
            return events
        return []

    def _join(
        self, node_id: str, app_id: str, channel: str, user_id: str, tx: ViewTransaction
    ) -> list[tuple[str, dict[str, Any]]]:
        nodes = tx.fetchall(
            f"SELECT node_id FROM {_MEMBERS} WHERE app_id = ? AND channel = ? AND user_id = ?",
            (app_id, channel, user_id),
        )
        tx.execute(
            f"INSERT INTO {_MEMBERS} (app_id, channel, user_id, node_id) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (app_id, channel, user_id, node_id),
        )
        if nodes:
            return []
        return [(app_id, {"name": "member_added", "channel": channel, "user_id": user_id})]

    def _leave(
        self, node_id: str, app_id: str, channel: str, user_id: str, tx: ViewTransaction
    ) -> list[tuple[str, dict[str, Any]]]:
        nodes = {
            n
            for (n,) in tx.fetchall(
                f"SELECT node_id FROM {_MEMBERS} WHERE app_id = ? AND channel = ? AND user_id = ?",
                (app_id, channel, user_id),
            )
        }
        if node_id not in nodes:
            return []
        tx.execute(
            f"DELETE FROM {_MEMBERS} WHERE app_id = ? AND channel = ? AND user_id = ?"
            " AND node_id = ?",
            (app_id, channel, user_id, node_id),
        )
        if len(nodes) > 1:
            return []
        return [(app_id, {"name": "member_removed", "channel": channel, "user_id": user_id})]

    def _count(
        self,
        node_id: str,
        app_id: str,
        channel: str,
        count: int,
        tx: ViewTransaction,
        only_if_occupied: bool,
    ) -> list[tuple[str, dict[str, Any]]]:
        nodes = dict(
            tx.fetchall(
                f"SELECT node_id, subscriptions FROM {_CHANNELS} WHERE app_id = ? AND channel = ?",
                (app_id, channel),
            )
        )
        if only_if_occupied and node_id not in nodes:
            return []
        before = sum(nodes.values())
        if count > 0:
            tx.execute(
                f"INSERT INTO {_CHANNELS} (app_id, channel, node_id, subscriptions)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (app_id, channel, node_id)"
                " DO UPDATE SET subscriptions = excluded.subscriptions",
                (app_id, channel, node_id, count),
            )
            nodes[node_id] = count
        elif node_id in nodes:
            tx.execute(
                f"DELETE FROM {_CHANNELS} WHERE app_id = ? AND channel = ? AND node_id = ?",
                (app_id, channel, node_id),
            )
            del nodes[node_id]
        after = sum(nodes.values())
        events: list[tuple[str, dict[str, Any]]] = []
        if before == 0 and after > 0:
            events.append((app_id, {"name": "channel_occupied", "channel": channel}))
        if after != before:
            counted = {"name": "subscription_count", "channel": channel}
            events.append((app_id, counted | {"subscription_count": after}))
        if before > 0 and after == 0:
            events.append((app_id, {"name": "channel_vacated", "channel": channel}))
        return events

    def _enqueue(
        self, record: LogRecord, events: list[tuple[str, dict[str, Any]]], tx: ViewTransaction
    ) -> None:
        hooks: dict[str, list[dict[str, Any]]] = {}
        rows: list[tuple[int, int, str, str, str, int]] = []
        time_ms = int(record.timestamp.timestamp() * 1000)
        for app_id, event in events:
            if app_id not in hooks:
                found = tx.fetchall(f"SELECT webhooks FROM {_HOOKS} WHERE app_id = ?", (app_id,))
                hooks[app_id] = orjson.loads(found[0][0]) if found else []
            for hook in hooks[app_id]:
                if wants(hook, event):
                    encoded = orjson.dumps(event).decode()
                    rows.append((record.position, len(rows), app_id, hook["url"], encoded, time_ms))
        if rows:
            tx.executemany(
                f"INSERT INTO {OUTBOX} (position, seq, app_id, url, event, time_ms)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                rows,
            )


def wants(hook: dict[str, Any], event: dict[str, Any]) -> bool:
    """A webhook's filter: its event types, and the channel prefix it may name."""
    prefix = hook.get("channel_prefix") or ""
    return event["name"] in (hook.get("event_types") or ()) and event["channel"].startswith(prefix)


def _client_event(payload: dict[str, Any]) -> dict[str, Any]:
    data = payload["data"]
    event = {
        "name": "client_event",
        "channel": payload["channel"],
        "event": payload["name"],
        # Pusher's webhooks carry a client event's data as the JSON text the client sent.
        "data": data if isinstance(data, str) else orjson.dumps(data).decode(),
        "socket_id": payload["socket_id"],
    }
    if payload.get("user_id") is not None:
        event["user_id"] = payload["user_id"]
    return event


def outbox_row(row: Sequence[Any]) -> OutboxRow:
    """A row selected as `OUTBOX_COLUMNS`."""
    position, seq, app_id, url, event, attempts, time_ms = row
    return OutboxRow(
        int(position), int(seq), str(app_id), str(url), orjson.loads(event), int(attempts),
        int(time_ms),
    )  # fmt: skip


OUTBOX_COLUMNS = "position, seq, app_id, url, event, attempts, time_ms"
