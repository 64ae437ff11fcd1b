"""The OpenShock edge's pure parts: where the gateway is, how bodies are read, how times look."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from starlette.requests import Request

from api.openshock.bodies import Fields
from api.openshock.control import control_items
from api.openshock.gateway_address import GatewayAddress, parse_gateway_url
from api.openshock.responses import utc
from domain.openshock.errors import InvalidRequest


def _request(host: str, scheme: str = "http") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": scheme,
            "path": "/2/device/assignLCG",
            "query_string": b"",
            "headers": [(b"host", host.encode())],
            "server": ("10.0.0.1", 8080),
        }
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("wss://gw.example.com", ("gw.example.com", 443, "")),
        ("https://gw.example.com:8443/openshock/", ("gw.example.com", 8443, "/openshock")),
        ("ws://10.1.2.3", ("10.1.2.3", 80, "")),
    ],
)
def test_a_configured_gateway_url_is_host_port_and_prefix(
    url: str, expected: tuple[str, int, str]
) -> None:
    assert parse_gateway_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "gw.example.com",
        "ftp://gw.example.com",
        "wss://",
        "wss://u:p@gw.example.com",
        "wss://h/?q=1",
    ],
)
def test_a_wrong_gateway_url_stops_the_start(url: str) -> None:
    with pytest.raises(ValueError):
        GatewayAddress(url)


def test_the_configured_gateway_wins_over_the_request() -> None:
    found = GatewayAddress("wss://gw.example.com:8443/p", "DE").for_request(_request("api:9000"))
    assert (found.host, found.port, found.path_prefix, found.country) == (
        "gw.example.com",
        8443,
        "/p",
        "DE",
    )
    assert found.fqdn == "gw.example.com:8443"


def test_without_one_the_gateway_is_where_the_request_came() -> None:
    found = GatewayAddress(None).for_request(_request("hubline.local:9000"))
    assert (found.host, found.port, found.path_prefix, found.country) == (
        "hubline.local",
        9000,
        "",
        "XX",
    )
    default_port = GatewayAddress(None).for_request(_request("hubline.example", "https"))
    assert (default_port.port, default_port.fqdn) == (443, "hubline.example")


def test_members_are_read_whatever_their_case_and_errors_name_their_path() -> None:
    body = Fields({"NAME": "Hub", "RfID": 1.0})
    assert body.text("name") == "Hub"
    assert body.integer("rfId") == 1
    body.integer("missing")
    body.boolean("pause")
    with pytest.raises(InvalidRequest) as refused:
        body.check()
    assert set(refused.value.errors) == {"missing", "pause"}


def test_control_items_check_shapes_and_leave_ranges_to_the_domain() -> None:
    shocker = "3f2b8c1e-0000-4000-8000-000000000001"
    (item,) = control_items(
        [{"ID": shocker, "type": "shock", "intensity": 101, "duration": 1}], "shocks"
    )
    assert (item.intensity, item.duration, item.exclusive) == (101, 1, False)
    with pytest.raises(InvalidRequest) as refused:
        control_items([{"id": shocker, "type": True, "intensity": 1, "duration": 300}], "shocks")
    assert list(refused.value.errors) == ["shocks[0].type"]
    with pytest.raises(InvalidRequest):
        control_items({"id": shocker}, "shocks")


def test_times_are_utc_with_six_fractional_digits_at_most() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert utc(moment) == "2026-01-02T01:04:05.123456Z"
    assert utc(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02T00:00:00.000000Z"


def test_share_rights_and_times_are_read_with_their_paths() -> None:
    body = Fields(
        {
            "permissions": {"Vibrate": True, "sound": False, "shock": True},
            "limits": {"intensity": None, "duration": 1000},
            "expiresOn": "2030-01-02T03:04:05",
        }
    )
    permissions, limits = body.rights()
    assert (permissions.vibrate, permissions.sound, permissions.live) == (True, False, False)
    assert (limits.intensity, limits.duration) == (None, 1000)
    assert body.optional_time("expiresOn") == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    body.check()

    bad = Fields({"permissions": "all", "limits": {"intensity": "high"}, "expiresOn": "soon"})
    bad.rights()
    bad.optional_time("expiresOn")
    with pytest.raises(InvalidRequest) as refused:
        bad.check()
    assert {"permissions", "limits.intensity", "expiresOn"} <= set(refused.value.errors)
