"""Leases of the serve nodes' Pusher gateways: how a node that died without a goodbye is found.

Each node renews its lease every few seconds (settings) in a table of its own in the
views database (PostgreSQL on the distributed deployment, so every node sees every lease;
SQLite embedded, where a restarted server finds its previous run's lease). A lease not
renewed within the expiry (20 s) names a dead node, whose members any node may then
declare gone (the command is idempotent). Times are the nodes' wall clocks: the expiry
dwarfs their skew.
"""

from __future__ import annotations

import time

from infra.store.view_database import ViewDatabase

LEASES = "pusher_node_leases"


class NodeLeases:
    def __init__(self, views: ViewDatabase) -> None:
        self._views = views
        with views.transaction() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {LEASES}"
                " (node_id TEXT PRIMARY KEY, renewed_ms BIGINT NOT NULL)"
            )

    def renew(self, node_id: str) -> None:
        with self._views.transaction() as tx:
            tx.execute(
                f"INSERT INTO {LEASES} (node_id, renewed_ms) VALUES (?, ?)"
                " ON CONFLICT (node_id) DO UPDATE SET renewed_ms = excluded.renewed_ms",
                (node_id, _now_ms()),
            )

    def others(self, node_id: str) -> dict[str, float]:
        """Every other node's lease -> seconds since it was renewed."""
        with self._views.transaction(write=False) as tx:
            rows = tx.fetchall(
                f"SELECT node_id, renewed_ms FROM {LEASES} WHERE node_id <> ?", (node_id,)
            )
        now = _now_ms()
        return {str(n): (now - int(at)) / 1000 for n, at in rows}

    def forget(self, node_id: str) -> None:
        with self._views.transaction() as tx:
            tx.execute(f"DELETE FROM {LEASES} WHERE node_id = ?", (node_id,))


def _now_ms() -> int:
    return int(time.time() * 1000)
