"""The seven DeviceAuth endpoints, on both deployments, as an integrator calls them."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.keys import make_key


def device_id() -> str:
    return f"dev-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def headers(stack: Stack) -> dict[str, str]:
    return stack.auth()


def test_set_get_and_clear_a_single_device(stack: Stack, headers: dict[str, str]) -> None:
    identifier = device_id()
    key = make_key("ecdsa-p256")
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as http:
        assert (
            http.post(
                f"/api/v1/deviceauth/{identifier}", json={"publicKey": key.b64_pem}
            ).status_code
            == 204
        )
        got = http.get(f"/api/v1/deviceauth/{identifier.lower()}")
        assert got.status_code == 200
        assert got.json() == {"publicKey": key.b64_pem, "unknown": True}

        listed = http.get("/api/v1/deviceauth").json()
        assert {"deviceIdentifier": identifier.upper()} in listed
        deep = http.get("/api/v1/deviceauth", params={"depth": 1}).json()
        assert {
            "deviceIdentifier": identifier.upper(),
            "information": {"publicKey": key.b64_pem, "unknown": True},
        } in deep

        assert http.delete(f"/api/v1/deviceauth/{identifier}").status_code == 204
        assert http.get(f"/api/v1/deviceauth/{identifier}").json() == {"unknown": True}


def test_csv_upload_applies_every_row(stack: Stack, headers: dict[str, str]) -> None:
    rows = {device_id().upper(): make_key(kind) for kind in ("ecdsa-p256", "ed25519", "rsa-2048")}
    body = "\ufeffdeviceIdentifier;publicKey\r\n" + "\r\n".join(
        f"{identifier};{key.b64_pem}" for identifier, key in rows.items()
    )
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as http:
        response = http.post(
            "/api/v1/deviceauth", content=body.encode(), headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 204, response.text
        for identifier, key in rows.items():
            assert http.get(f"/api/v1/deviceauth/{identifier}").json()["publicKey"] == key.b64_pem


def test_csv_upload_as_multipart_file(stack: Stack, headers: dict[str, str]) -> None:
    identifier = device_id().upper()
    key = make_key("ecdsa-secp256k1")
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as http:
        response = http.post(
            "/api/v1/deviceauth",
            files={"file": ("devices.csv", f"{identifier},{key.b64_pem}\n", "text/csv")},
        )
        assert response.status_code == 204, response.text
        assert http.get(f"/api/v1/deviceauth/{identifier}").json()["publicKey"] == key.b64_pem


def test_malformed_csv_is_rejected_whole_naming_lines(
    stack: Stack, headers: dict[str, str]
) -> None:
    good = device_id().upper()
    key = make_key("ed25519")
    body = f"{good};{key.b64_pem}\nonly-one-column\n{device_id()};not base64 at all!\n"
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as http:
        response = http.post(
            "/api/v1/deviceauth", content=body, headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/problem+json")
        lines = sorted(error["line"] for error in response.json()["errors"])
        assert lines == [2, 3]
        assert http.get(f"/api/v1/deviceauth/{good}").status_code == 404


def test_upload_over_the_limit_is_413(stack: Stack, headers: dict[str, str]) -> None:
    body = b"a;" + base64.b64encode(b"x" * (10 * 1024 * 1024))
    with httpx.Client(base_url=stack.url, headers=headers, timeout=60) as http:
        response = http.post(
            "/api/v1/deviceauth", content=body, headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 413


def test_unusable_key_is_stored_and_device_stays_unknown(
    stack: Stack, headers: dict[str, str]
) -> None:
    identifier = device_id()
    p384 = make_key("ecdsa-p384")
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as http:
        assert (
            http.post(f"/api/v1/deviceauth/{identifier}", json={"publicKey": p384.pem}).status_code
            == 204
        )
        assert http.get(f"/api/v1/deviceauth/{identifier}").json() == {
            "publicKey": p384.pem,
            "unknown": True,
        }


def test_clear_all_resets_every_device(stack: Stack, headers: dict[str, str]) -> None:
    identifiers = [device_id().upper() for _ in range(3)]
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as http:
        for identifier in identifiers:
            http.post(
                f"/api/v1/deviceauth/{identifier}", json={"publicKey": make_key("ed25519").pem}
            )
        assert http.delete("/api/v1/deviceauth").status_code == 204
        listed = {
            e["deviceIdentifier"]: e["information"]
            for e in http.get("/api/v1/deviceauth?depth=1").json()
        }
        for identifier in identifiers:
            assert listed[identifier] == {"unknown": True}


def test_unknown_identifier_is_404(stack: Stack, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as http:
        for method in ("GET", "DELETE"):
            response = http.request(method, f"/api/v1/deviceauth/{device_id()}")
            assert response.status_code == 404
            assert "no device" in response.json()["detail"]


def test_invalid_identifier_and_body_are_400(stack: Stack, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as http:
        assert http.get("/api/v1/deviceauth/bad%20id!").status_code == 400
        assert http.post(f"/api/v1/deviceauth/{device_id()}", json={}).status_code == 400
        assert http.post(f"/api/v1/deviceauth/{device_id()}", content=b"{nope").status_code == 400
        assert http.get("/api/v1/deviceauth", params={"depth": "-1"}).status_code == 400


def test_missing_credentials_and_permissions(stack: Stack) -> None:
    reader = stack.auth("deviceAuth:read")
    with httpx.Client(base_url=stack.url, timeout=30) as http:
        assert http.get("/api/v1/deviceauth").status_code == 401
        assert (
            http.get(
                "/api/v1/deviceauth", headers={"Authorization": "Bearer hbl_wrong"}
            ).status_code
            == 401
        )
        assert http.get("/api/v1/deviceauth", headers=reader).status_code == 200
        denied = http.post(
            f"/api/v1/deviceauth/{device_id()}", json={"publicKey": "x"}, headers=reader
        )
        assert denied.status_code == 403
        assert "deviceAuth:update" in denied.json()["detail"]
        assert http.delete("/api/v1/deviceauth", headers=reader).status_code == 403


def test_revoked_token_is_refused(stack: Stack) -> None:
    created = stack.cli(
        "tokens", "create", "--name", "short-lived", "--permissions", "deviceAuth:read"
    )
    token = created.stdout.strip().splitlines()[-1]
    token_id = created.stderr.split("token id: ")[1].split()[0]
    with httpx.Client(
        base_url=stack.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        assert http.get("/api/v1/deviceauth").status_code == 200
        stack.cli("tokens", "revoke", token_id)
        assert http.get("/api/v1/deviceauth").status_code == 401


def test_openapi_and_health(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as http:
        spec = http.get("/openapi.json").json()
        assert "/api/v1/deviceauth/{deviceIdentifier}" in spec["paths"]
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz").json()
        assert ready["status"] == "ready"
        assert ready["checks"]["store"] and ready["checks"]["log"]
        metrics = http.get("/metrics").text
        assert "hubline_commands_total" in metrics
        assert "hubline_projection_lag" in metrics
