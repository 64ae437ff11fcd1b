"""Applying the per-user-per-client limits to a request, with AspNetCoreRateLimit's wire format."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.responses import PlainTextResponse

from infra.limits.rate_limits import RateDecision, RateLimiter, reset_header


async def check(limiter: RateLimiter, subject: str, client_id: str) -> RateDecision:
    return await limiter.hit(f"{subject}:{client_id}", datetime.now(UTC))


def allowed_headers(decision: RateDecision) -> dict[str, str]:
    return {
        "X-Rate-Limit-Limit": decision.rule.label,
        "X-Rate-Limit-Remaining": str(decision.remaining),
        "X-Rate-Limit-Reset": reset_header(decision.window_ends_at),
    }


def too_many(decision: RateDecision) -> PlainTextResponse:
    """429 with only Retry-After and the quota sentence, as SENZ's API answers."""
    return PlainTextResponse(
        decision.quota_message(),
        status_code=429,
        headers={"Retry-After": str(decision.retry_after_seconds(datetime.now(UTC)))},
    )
