"""The bare FastAPI app of the HTTP anchors: the route shapes of the measured writes, and
nothing else.

- POST /api/v1/deviceauth/{deviceIdentifier}: a DeviceAuth write (bench/rest_writes.py).
- PUT /api/v1/Mode/{mode}: a SENZ mode change (bench/senz_fanout.py).
- POST /2/shockers/control: an OpenShock control request (bench/openshock_control.py), its
  body parsed as JSON and its items read, answered 200 with the real route's message.

Each takes a JSON body validated by the same pydantic model as the real route documents and
reads the bearer header, answering 204: no authentication, rate limit, store or views. It
runs under `hubline serve`'s own uvicorn configuration (infra/transport/server.py: the
bounded httptools protocol, the loop, the limits), in a process of its own like `hubline
serve`.

python -m bench.bare_app --port N
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import uvicorn
from fastapi import FastAPI, Header, Response
from fastapi.responses import JSONResponse

from api.deviceauth.models import SetPublicKeyBody
from api.senz.schemas import ModeChange
from infra.settings import Settings
from infra.transport.server import server_config
from tests.conftest import free_port
from tests.e2e.server import ROOT


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/api/v1/deviceauth/{deviceIdentifier}", status_code=204)
    async def set_device_access(
        deviceIdentifier: str,
        body: SetPublicKeyBody,
        authorization: Annotated[str, Header()],
    ) -> Response:
        # Read what the real route reads, so that nothing is skipped for being unused.
        if not (authorization.startswith("Bearer ") and deviceIdentifier and body.public_key):
            return Response(status_code=400)
        return Response(status_code=204)

    @app.put("/api/v1/Mode/{mode}", status_code=204)
    async def set_mode(
        mode: str, body: ModeChange, authorization: Annotated[str, Header()]
    ) -> Response:
        if not (authorization.startswith("Bearer ") and mode and body.serialNumber):
            return Response(status_code=400)
        return Response(status_code=204)

    @app.post("/2/shockers/control")
    async def control_shockers(
        body: dict[str, Any], openshocktoken: Annotated[str, Header()]
    ) -> Response:
        shocks = body.get("shocks")
        if not (openshocktoken and isinstance(shocks, list) and all("id" in s for s in shocks)):
            return Response(status_code=400)
        return JSONResponse({"message": "Successfully sent control messages", "data": None})

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        # Says which event loop uvicorn chose, so that the anchor shows it ran on uvloop.
        loop = type(asyncio.get_running_loop())
        return {"loop": f"{loop.__module__}.{loop.__qualname__}"}

    return app


def serve(port: int) -> None:
    settings = Settings.load({"host": "127.0.0.1", "port": port, "log_level": "warning"}, {})
    uvicorn.Server(server_config(bare_app(), settings)).run()


@dataclass(frozen=True)
class RunningBareApp:
    url: str
    pid: int
    event_loop: str


@contextmanager
def running_bare_app() -> Iterator[RunningBareApp]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_app", "--port", str(port)], cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                loop = httpx.get(f"{url}/readyz", timeout=1).json()["loop"]
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield RunningBareApp(url, process.pid, loop)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
