"""Prometheus metrics, declared once; /metrics exposes the default registry."""

from prometheus_client import Counter, Gauge, Histogram

COMMANDS = Counter("hubline_commands_total", "Commands handled", ["type", "outcome"])
EVENTS = Counter("hubline_events_total", "Events appended to the store", ["type"])
APPEND_LATENCY = Histogram(
    "hubline_append_seconds",
    "Time to save one group commit",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BATCH_SIZE = Histogram(
    "hubline_commit_batch_size",
    "Commands per group commit",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500),
)
PROJECTION_POSITION = Gauge(
    "hubline_projection_position", "Last log position applied", ["projection"]
)
PROJECTION_LAG = Gauge("hubline_projection_lag", "Log positions not yet applied", ["projection"])
LOG_HEAD = Gauge("hubline_log_head", "Newest position in the log")
OPEN_CONNECTIONS = Gauge("hubline_gateway_connections", "Open websocket connections", ["gateway"])
