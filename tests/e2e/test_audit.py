"""Auditors read the log over REST and through the CLI, with who did what."""

from __future__ import annotations

import json
import uuid

import httpx

from tests.e2e.conftest import Stack


def test_audit_pages_and_filters_with_actor_metadata(stack: Stack) -> None:
    writer = stack.auth()
    auditor = stack.auth("audit:read")
    identifier = f"AU-{uuid.uuid4().hex[:8]}".upper()
    with httpx.Client(base_url=stack.url, timeout=30) as http:
        for n in range(3):
            response = http.post(
                f"/api/v1/deviceauth/{identifier}",
                json={"publicKey": f"key-{n}"},
                headers={**writer, "X-Correlation-Id": f"corr-{n}"},
            )
            assert response.status_code == 204
        assert http.get("/audit/events", headers=writer).status_code == 403

        page = http.get(
            "/audit/events",
            params={"type": "DeviceAccess.PublicKeySet", "limit": 1000},
            headers=auditor,
        ).json()
        mine = [
            item for item in page["items"] if item["payload"].get("device_identifier") == identifier
        ]
        assert [item["payload"]["public_key"] for item in mine] == ["key-0", "key-1", "key-2"]
        first = mine[0]
        assert first["actor"]["actor_kind"] == "api_token"
        assert first["actor"]["correlation_id"] == "corr-0"
        assert first["actor"]["source_address"] == "127.0.0.1"
        assert first["timestamp"].endswith("Z")

        by_aggregate = http.get(
            "/audit/events", params={"aggregateId": first["aggregateId"]}, headers=auditor
        ).json()["items"]
        assert [i["aggregateVersion"] for i in by_aggregate] == [1, 2, 3, 4]

        paged = http.get(
            "/audit/events", params={"after": first["position"], "limit": 1}, headers=auditor
        ).json()
        assert paged["items"][0]["position"] > first["position"]
        assert paged["next"] == paged["items"][0]["position"]

        future = http.get(
            "/audit/events", params={"since": "2999-01-01T00:00:00Z"}, headers=auditor
        )
        assert future.json()["items"] == []
        assert (
            http.get("/audit/events", params={"since": "yesterday"}, headers=auditor).status_code
            == 400
        )


def test_token_secrets_never_appear_in_the_log(stack: Stack) -> None:
    token = stack.token("audit:read")
    exported = stack.cli("events", "export").stdout
    assert token not in exported
    lines = [json.loads(line) for line in exported.splitlines()]
    issued = [line for line in lines if line["type"] == "ApiToken.Issued"]
    assert issued and all(line["payload"]["token_hash"] == "[redacted]" for line in issued)
    after = lines[-2]["position"]
    tail = stack.cli("events", "export", "--after", str(after)).stdout.splitlines()
    assert [json.loads(line)["position"] for line in tail] == [lines[-1]["position"]]


def test_projection_status_and_rebuild(stack: Stack) -> None:
    status = stack.cli("projections", "status").stdout
    assert "device_access" in status and "log head" in status
    if stack.kind == "embedded":
        rebuilt = stack.cli("projections", "rebuild", "device_access")
        assert "rebuilt device_access" in rebuilt.stdout
