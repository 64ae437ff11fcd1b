"""Token endpoint throughput: password grants (Argon2id-bound) and refresh grants, over HTTP.

python -m bench.token_endpoint [--count N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.e2e.server import Server, hubline

PASSWORD = "correct horse battery staple"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hubline-bench-"))
    flags = ["--data-dir", str(root / "data")]
    port = free_port()
    server = Server(
        "serve",
        ["serve", "--port", str(port), "--log-level", "warning", *flags],
        root / "serve.log",
        port=port,
    )
    server.start()
    try:
        hubline(
            "users",
            "create",
            "--email",
            "bench@example.com",
            "--name",
            "Bench",
            *flags,
            stdin=PASSWORD + "\n",
        )
        client = json.loads(
            hubline(
                "clients",
                "create",
                "--name",
                "bench",
                "--grant-types",
                "password,refresh_token",
                *flags,
            ).stdout
        )
        auth = (client["client_id"], client["client_secret"])
        url = f"{server.url}/connect/token"

        local = threading.local()

        def http() -> httpx.Client:
            # One keep-alive connection per worker, as a client library holds one.
            if not hasattr(local, "client"):
                local.client = httpx.Client(auth=auth, timeout=30)
            client: httpx.Client = local.client
            return client

        def password_grant(_: int) -> str:
            response = http().post(
                url,
                data={
                    "grant_type": "password",
                    "username": "bench@example.com",
                    "password": PASSWORD,
                    "scope": "openid offline_access",
                },
            )
            response.raise_for_status()
            return str(response.json()["refresh_token"])

        def refresh_chain(token: str) -> None:
            for _ in range(5):
                response = http().post(
                    url, data={"grant_type": "refresh_token", "refresh_token": token}
                )
                response.raise_for_status()
                token = response.json()["refresh_token"]

        with ThreadPoolExecutor(args.concurrency) as pool:
            started = time.perf_counter()
            refresh_tokens = list(pool.map(password_grant, range(args.count)))
            password_seconds = time.perf_counter() - started
            started = time.perf_counter()
            list(pool.map(refresh_chain, refresh_tokens))
            refresh_seconds = time.perf_counter() - started
    finally:
        server.stop()
    print(
        f"password grant, {args.concurrency} clients: {args.count / password_seconds:,.0f} tokens/s"
    )
    print(
        f"refresh grant (rotation), {args.concurrency} clients: "
        f"{5 * args.count / refresh_seconds:,.0f} tokens/s"
    )


if __name__ == "__main__":
    main()
