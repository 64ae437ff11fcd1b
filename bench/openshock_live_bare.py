"""The anchor of the live-control bench: a bare FastAPI app with live control's shape and
nothing else, under `hubline serve`'s uvicorn configuration (infra/transport/server.py).

- /2/ws/hub: a hub's socket, its Device-Token header naming the hub (no token check, no
  events, no Pings).
- /1/ws/live/{hubId}: JSON frames read with orjson as the real gateway reads them (Shocker,
  Intensity, Type), each keeping its shocker active for 250 ms (the hold at 10 TPS).
- One loop per hub with live sockets sends the hub, every 200 ms, one ShockerCommandList
  (built with gateways/openshock/hub_frames.py) of its active shockers, 500 ms each, straight
  from memory: no command bus, no store, no log.

python -m bench.openshock_live_bare --port N
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field

import orjson
import uvicorn
from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect

from gateways.openshock import hub_frames
from infra.settings import Settings
from infra.transport.server import server_config

TICK_SECONDS = 0.2
HOLD_SECONDS = 0.25
TICK_DURATION_MS = 500
_TYPES = {"shock": 1, "vibrate": 2, "sound": 3}


@dataclass
class _Hub:
    socket: WebSocket | None = None
    sessions: int = 0
    active: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


def live_bare_app() -> FastAPI:
    app = FastAPI()
    hubs: dict[str, _Hub] = {}

    async def ticks(hub_id: str, hub: _Hub) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while hub.sessions > 0:
            due += TICK_SECONDS
            await asyncio.sleep(max(0.0, due - loop.time()))
            now = time.time()
            for shocker in [k for k, (_, _, until) in hub.active.items() if until <= now]:
                del hub.active[shocker]
            if hub.active and hub.socket is not None:
                commands = [
                    hub_frames.HubCommand(0, 1000, kind, intensity, TICK_DURATION_MS)
                    for kind, intensity, _ in hub.active.values()
                ]
                await hub.socket.send_bytes(hub_frames.command_list(commands, 2))
        hub.task = None

    @app.websocket("/2/ws/hub")
    async def hub_socket(websocket: WebSocket) -> None:
        hub_id = websocket.headers["device-token"]
        await websocket.accept()
        hubs.setdefault(hub_id, _Hub()).socket = websocket
        try:
            while True:
                await websocket.receive_bytes()
        except WebSocketDisconnect:
            hubs[hub_id].socket = None

    @app.websocket("/1/ws/live/{hub_id}")
    async def live_socket(websocket: WebSocket, hub_id: str) -> None:
        await websocket.accept()
        hub = hubs.setdefault(hub_id, _Hub())
        hub.sessions += 1
        if hub.task is None:
            hub.task = asyncio.create_task(ticks(hub_id, hub))
        try:
            while True:
                message = orjson.loads(await websocket.receive_text())
                data = message.get("Data")
                if message.get("RequestType") == "Frame" and isinstance(data, dict):
                    kind = _TYPES.get(str(data["Type"]).lower(), 2)
                    until = time.time() + HOLD_SECONDS
                    hub.active[str(data["Shocker"])] = (kind, int(data["Intensity"]), until)
        except WebSocketDisconnect:
            hub.sessions -= 1

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"ready": "yes"}

    return app


def serve(port: int) -> None:
    settings = Settings.load({"host": "127.0.0.1", "port": port, "log_level": "warning"}, {})
    uvicorn.Server(server_config(live_bare_app(), settings)).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
