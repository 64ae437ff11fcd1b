"""Large and hostile access-list uploads (issue 9, defects 7 and 8), on both deployments.

A key longer than the JSON route's 16 KiB is refused whole, in the DeviceAuth error format,
and nothing is stored. A large upload is read as it arrives and applied in batches that
the views keep pace with, so reads during it wait a little and never answer 503. Its
memory and time are a benchmark (bench/csv_upload.py), not a test.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from domain.deviceauth.public_keys import MAX_KEY_TEXT_LENGTH
from tests.e2e.conftest import Stack, build_stack
from tests.keys import make_key

LARGE_ROWS = 20_000
# Short, so that an upload applied as one huge transaction (the defect) shows up as 503s
# while the views catch up; a few batches of views' work fit easily within it.
READ_YOUR_WRITES_SECONDS = 2


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = {
        "HUBLINE_MAX_UPLOAD_BYTES": str(16 * 1024 * 1024),
        "HUBLINE_READ_YOUR_WRITES_TIMEOUT_SECONDS": str(READ_YOUR_WRITES_SECONDS),
    }
    running = build_stack(request.param, tmp_path_factory.mktemp(request.param), env)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def headers(stack: Stack) -> dict[str, str]:
    return stack.auth("deviceAuth:read,deviceAuth:update,deviceAuth:delete,audit:read")


def prefix() -> str:
    return f"U{uuid.uuid4().hex[:8]}".upper()


def post_csv(http: httpx.Client, body: bytes) -> httpx.Response:
    return http.post("/api/v1/deviceauth", content=body, headers={"Content-Type": "text/csv"})


def test_a_key_longer_than_16_kib_is_refused_and_nothing_is_stored(
    stack: Stack, headers: dict[str, str]
) -> None:
    good = f"{prefix()}-GOOD"
    long_key = base64.b64encode(b"k" * (MAX_KEY_TEXT_LENGTH // 4 * 3 + 3)).decode()
    body = f"{good};{make_key('ed25519').b64_pem}\n{prefix()}-LONG;{long_key}\n".encode()
    with httpx.Client(base_url=stack.url, headers=headers, timeout=60) as http:
        response = post_csv(http, body)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        (error,) = response.json()["errors"]
        assert error["line"] == 2 and str(MAX_KEY_TEXT_LENGTH) in error["message"]
        assert http.get(f"/api/v1/deviceauth/{good}").status_code == 404


def test_a_5_mb_key_is_refused_whole_as_a_file_field_too(
    stack: Stack, headers: dict[str, str]
) -> None:
    good = f"{prefix()}-GOOD"
    huge = f"{good};QUJD\n{prefix()}-HUGE;{'QUJD' * (5 * 1024 * 1024 // 4)}\n"
    with httpx.Client(base_url=stack.url, headers=headers, timeout=60) as http:
        for response in (
            post_csv(http, huge.encode()),
            http.post("/api/v1/deviceauth", files={"file": ("list.csv", huge, "text/csv")}),
        ):
            assert response.status_code == 400, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert [e["line"] for e in response.json()["errors"]] == [2]
        assert http.get(f"/api/v1/deviceauth/{good}").status_code == 404


def test_a_large_upload_is_applied_while_reads_stay_available(
    stack: Stack, headers: dict[str, str]
) -> None:
    batch = prefix()
    # Distinct real keys cost time to make; a few hundred, each on many devices, still
    # make every row a real key.
    keys = [make_key("ecdsa-p256").b64_pem for _ in range(200)]
    rows = [(f"{batch}-{n:05d}", keys[n % len(keys)]) for n in range(LARGE_ROWS)]
    body = "".join(f"{identifier};{key}\r\n" for identifier, key in rows).encode()
    answers: list[int] = []
    uploading = threading.Event()
    uploading.set()

    def read_meanwhile() -> None:
        with httpx.Client(base_url=stack.url, headers=headers, timeout=60) as http:
            paths = [
                "/api/v1/deviceauth",
                "/audit/events?limit=5",
                f"/api/v1/deviceauth/{batch}-00000",
            ]
            n = 0
            while uploading.is_set():
                answers.append(http.get(paths[n % len(paths)]).status_code)
                n += 1
                time.sleep(0.02)

    reader = threading.Thread(target=read_meanwhile)
    reader.start()
    try:
        with httpx.Client(base_url=stack.url, headers=headers, timeout=300) as http:
            response = post_csv(http, body)
    finally:
        uploading.clear()
        reader.join()
    assert response.status_code == 204, response.text
    assert 503 not in answers, answers
    assert set(answers) <= {200, 404}, answers  # 404: the probed device before its batch
    # Read-your-writes right after the answer: every row, at once, not a 503.
    with httpx.Client(base_url=stack.url, headers=headers, timeout=120) as http:
        response = http.get("/api/v1/deviceauth", params={"depth": 1})
        assert response.status_code == 200, response.text
        listed = response.json()
        mine = {
            entry["deviceIdentifier"]: entry["information"]["publicKey"]
            for entry in listed
            if entry["deviceIdentifier"].startswith(batch)
        }
        assert mine == dict(rows)
