"""Cost per request of checking credentials and rate limits, in-process (no HTTP).

python -m bench.request_auth [--redis redis://…]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from domain.context import CommandContext
from domain.identity.commands import RegisterUser
from domain.principals.commands import IssueApiToken
from infra.identity.credentials import mint_token
from infra.limits.rate_limits import MemoryRateLimiter, RedisRateLimiter, parse_rules
from infra.root.services import Services
from infra.settings import Settings

CLI = CommandContext(actor_id="bench", actor_kind="bench")


def timed(label: str, call: Callable[[], object], n: int = 2000) -> None:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    samples.sort()
    p50 = statistics.median(samples) * 1e6
    p99 = samples[int(n * 0.99) - 1] * 1e6
    print(f"{label}: p50 {p50:,.0f} µs, p99 {p99:,.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis")
    args = parser.parse_args()
    settings = Settings.load({"data_dir": Path(tempfile.mkdtemp()) / "data"}, environ={})
    hub = Services(settings)
    hub.signing_keys.ensure()
    subject = hub.bus.execute_now(
        RegisterUser(
            email="b@example.com", name="B", password_hash="x", roles=("admin",), context=CLI
        )
    )
    access = hub.access_tokens.mint("bench-client", subject, "openid", grant_id=None).token
    api_token, token_hash = mint_token()
    hub.bus.execute_now(
        IssueApiToken(
            name="bench", token_hash=token_hash, permissions=("deviceAuth:read",), context=CLI
        )
    )
    fresh = [
        hub.access_tokens.mint("bench-client", subject, "openid", grant_id=None).token
        for _ in range(2000)
    ]
    timed(
        "JWT access token, first use: signature and claims",
        lambda: hub.access_tokens.validate(fresh.pop()),
    )
    timed(
        "JWT access token, used again (verified before)",
        lambda: hub.access_tokens.validate(access),
    )
    timed(
        "JWT access token -> principal (with the user's roles)",
        lambda: hub.authenticator.principal_for(access),
    )
    timed(
        "API token -> principal (hash, store read)",
        lambda: hub.authenticator.principal_for(api_token),
    )
    rules = parse_rules(settings.rate_limit_rules)
    memory = MemoryRateLimiter(rules)
    loop = asyncio.new_event_loop()
    timed(
        "rate limit check, in memory",
        lambda: loop.run_until_complete(
            memory.hit(f"u{uuid.uuid4().int % 1000}:c", datetime.now(UTC))
        ),
    )
    if args.redis:
        shared = RedisRateLimiter(args.redis, rules, prefix=f"bench:{uuid.uuid4().hex}")
        timed(
            "rate limit check, Redis (one round trip)",
            lambda: loop.run_until_complete(
                shared.hit(f"u{uuid.uuid4().int % 1000}:c", datetime.now(UTC))
            ),
        )
    hub.store.close()


if __name__ == "__main__":
    main()
