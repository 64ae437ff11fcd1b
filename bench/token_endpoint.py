"""Token endpoint throughput: password grants (Argon2id-bound) and refresh grants, over HTTP.

python -m bench.token_endpoint [--postgres URL --kafka HOST:PORT] [--count N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.deployments import add_deployment_arguments, deployment_name, running_deployment

PASSWORD = "correct horse battery staple"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with running_deployment(args) as deployment:
        deployment.cli(
            "users",
            "create",
            "--email",
            "bench@example.com",
            "--name",
            "Bench",
            stdin=PASSWORD + "\n",
        )
        client = json.loads(
            deployment.cli(
                "clients", "create", "--name", "bench", "--grant-types", "password,refresh_token"
            )
        )
        auth = (client["client_id"], client["client_secret"])
        url = f"{deployment.server.url}/connect/token"

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
    print(f"deployment: {deployment_name(args)}")
    print(
        f"password grant, {args.concurrency} clients: {args.count / password_seconds:,.0f} tokens/s"
    )
    print(
        f"refresh grant (rotation), {args.concurrency} clients: "
        f"{5 * args.count / refresh_seconds:,.0f} tokens/s"
    )


if __name__ == "__main__":
    main()
