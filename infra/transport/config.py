"""uvicorn's Config with the limits Hubline's protocols enforce on each connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass(frozen=True)
class TransportLimits:
    """What a client may send before its application sees a request (see Settings)."""

    header_timeout_seconds: float
    max_url_bytes: int
    max_header_bytes: int


class ServerConfig(uvicorn.Config):
    """uvicorn's Config, carrying the limits to the protocol of each connection."""

    def __init__(self, app: Any, limits: TransportLimits, **options: Any) -> None:
        super().__init__(app, **options)
        self.limits = limits
