"""Where hubs and live-control clients are sent: this deployment's gateway (OpenShock's LCG).

The real API picks one of its LiveControlGateway nodes (same environment, nearest country,
lowest load). Hubline's gateway is every `serve` node itself, so the answer is the public
gateway address the operator configured (behind a load balancer or proxy), else the host
and port the request came to: whoever reached this API reaches its gateway there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

_DEFAULT_PORTS = {"https": 443, "wss": 443, "http": 80, "ws": 80}
# What the real gateway reports when it cannot tell (ISO 3166 leaves XX to users).
UNKNOWN_COUNTRY = "XX"


@dataclass(frozen=True)
class Gateway:
    host: str
    port: int
    path_prefix: str  # "" or "/something", never a trailing slash
    country: str

    @property
    def fqdn(self) -> str:
        """GET /1/device/assignLCG's `fqdn`: old firmware dials wss://{fqdn}/1/ws/device, so
        a port other than 443 travels with the host."""
        return self.host if self.port == 443 else f"{self.host}:{self.port}"


def parse_gateway_url(url: str) -> tuple[str, int, str]:
    """`wss://gw.example.com[:port][/prefix]` (or https, ws, http) as host, port, prefix.

    Raises ValueError for anything else, so that a wrong setting stops `serve` at start.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(
            "the OpenShock gateway URL looks like wss://gateway.example.com[:port][/prefix]"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the OpenShock gateway URL has no user, query or fragment")
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    return parts.hostname, port, parts.path.rstrip("/")


class GatewayAddress:
    """Answers where the gateway is, for one request."""

    def __init__(self, configured_url: str | None, country: str = UNKNOWN_COUNTRY) -> None:
        self._configured = None if not configured_url else parse_gateway_url(configured_url)
        self._country = country or UNKNOWN_COUNTRY

    def for_request(self, request: Request) -> Gateway:
        if self._configured is not None:
            host, port, prefix = self._configured
            return Gateway(host, port, prefix, self._country)
        url = request.url  # from the Host header, as the client addressed us
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 80)
        return Gateway(url.hostname or "localhost", port, "", self._country)
