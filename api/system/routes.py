"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from infra.health import Health


def system_router(health: Health) -> APIRouter:
    router = APIRouter(tags=["system"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="The store and the log are reachable")
    async def readyz() -> JSONResponse:
        checks = await health.ready()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        await run_in_threadpool(health.refresh_gauges)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
