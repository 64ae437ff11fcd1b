"""Server memory per idle OpenShock hub on /2/ws/hub, beside a bare uvicorn websocket server.

python -m bench.openshock_idle_hubs [--hubs N] [--postgres URL [--kafka HOST:PORT]]

N hubs are made with the deployment's own command bus, run in this process as the CLI runs
it (`CreateHub` with a minted token, each for an owner of its own: 10,000 hubs through REST
would need 2,500 signups and their Argon2 hashes). Each hub then connects with its token and
the current FlatBuffers schema (bench/openshock_load_hubs.py), on one asyncio loop, 100
handshakes at a time, and answers the gateway's Pings: the first after 5 s, then every 15 s,
so every hub is connected, recorded connected and online (its latency recorded) when the
memory is read. Memory is `serve`'s VmRSS, read once every hub had its first Pong answered
(+3 s) and again after a whole ping round (+16 s more, steady state); the figure is the
second, over the VmRSS read before the first hub connected (after one hub connected and left,
which loads what every hub uses).

Anchor, measured in the same run with the same method (bench/idle_websockets.py, as
bench/pusher_idle.py uses it): as many idle connections to a websocket app that only accepts
and waits, under uvicorn with the same websocket options.
`serve` is started with HUBLINE_MAX_CONNECTIONS=20000 (its default refuses past 10,000).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid

from bench.deployments import (
    RunningDeployment,
    add_deployment_arguments,
    deployment_name,
    running_deployment,
)
from bench.idle_websockets import bare_anchor, resident_kib
from bench.openshock_load_hubs import LIMITS_OFF, LoadHub, connect_hub, deployment_settings
from domain.context import CommandContext
from domain.openshock.commands import CreateHub
from domain.openshock.values import Caller
from infra.identity.secret_box import SecretBox, master_key
from infra.openshock.hub_tokens import SealedHubTokens
from infra.root.offline import administration
from infra.store.aggregates import AggregateLoader

HANDSHAKES_AT_ONCE = 100
_CONTEXT = CommandContext(actor_id="bench", actor_kind="cli")


def made_hubs(deployment: RunningDeployment, count: int) -> list[str]:
    """`count` new hubs' tokens, saved through a bus of this process on the deployment's
    store (grouped in commits of up to 500, as the server's bus groups them)."""
    admin = administration(deployment_settings(deployment))
    minter = SealedHubTokens(SecretBox(master_key(admin.settings)), AggregateLoader(admin.store))
    minted = [minter.mint() for _ in range(count)]

    async def create_all() -> None:
        for start in range(0, count, 1000):
            await asyncio.gather(
                *(
                    admin.bus.execute(
                        CreateHub(
                            caller=Caller(user_id=uuid.uuid4()),
                            name=f"Idle {n}",
                            token_hash=m.token_hash,
                            sealed_token=m.sealed,
                            context=_CONTEXT,
                        )
                    )
                    for n, m in enumerate(minted[start : start + 1000], start)
                )
            )

    admin.bus.start()
    try:
        asyncio.run(create_all())
    finally:
        admin.bus.stop()
    return [m.token for m in minted]


async def idle_hubs(
    url: str, warm_up_token: str, tokens: list[str], pid: int
) -> tuple[int, int, int, float, int]:
    """The server's VmRSS (KiB) before, once online, after a ping round; the seconds taken
    to open every socket, and the sockets the server closed."""
    warm_up = await connect_hub(url, warm_up_token)
    reading = asyncio.create_task(warm_up.run())
    await asyncio.wait_for(warm_up.online.wait(), 60)
    await warm_up.socket.close()
    await reading
    await asyncio.sleep(2)  # its disconnection recorded
    before = resident_kib(pid)
    hubs: list[LoadHub] = []
    readers: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    for start in range(0, len(tokens), HANDSHAKES_AT_ONCE):
        opened = await asyncio.gather(
            *(connect_hub(url, t) for t in tokens[start : start + HANDSHAKES_AT_ONCE])
        )
        hubs += opened
        readers += [asyncio.create_task(hub.run()) for hub in opened]
    opening = time.perf_counter() - started
    await asyncio.wait_for(asyncio.gather(*(hub.online.wait() for hub in hubs)), 120)
    await asyncio.sleep(3)
    online = resident_kib(pid)
    await asyncio.sleep(16)
    steady = resident_kib(pid)
    closed = sum(hub.closed_with is not None for hub in hubs)
    for start in range(0, len(hubs), 1000):
        await asyncio.gather(*(hub.socket.close() for hub in hubs[start : start + 1000]))
    await asyncio.gather(*readers)
    return before, online, steady, opening, closed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_deployment_arguments(parser)
    parser.add_argument("--hubs", type=int, default=10_000)
    args = parser.parse_args()
    started = time.strftime("%H:%M:%S", time.gmtime())
    load_before = os.getloadavg()[0]
    bare_before, bare_connected = bare_anchor(args.hubs)
    env = LIMITS_OFF | {"HUBLINE_MAX_CONNECTIONS": str(2 * args.hubs)}
    with running_deployment(args, env) as deployment:
        server = deployment.server
        assert server.process is not None
        made = time.perf_counter()
        tokens = made_hubs(deployment, args.hubs + 1)
        made = time.perf_counter() - made
        before, online, steady, opening, closed = asyncio.run(
            idle_hubs(server.url, tokens[0], tokens[1:], server.process.pid)
        )
    per_hub = (steady - before) / args.hubs
    per_hub_online = (online - before) / args.hubs
    bare = (bare_connected - bare_before) / args.hubs
    print(
        f"deployment: {deployment_name(args)}; started {started} UTC;"
        f" load {load_before:.2f} -> {os.getloadavg()[0]:.2f}"
    )
    print(
        f"/2/ws/hub, {args.hubs} idle online hubs (made in {made:.0f} s, sockets opened in"
        f" {opening:.1f} s, {closed} closed by the server): {before / 1024:,.0f} MiB before,"
        f" {online / 1024:,.0f} MiB online ({per_hub_online:,.1f} KiB each),"
        f" {steady / 1024:,.0f} MiB after a ping round: {per_hub:,.1f} KiB each"
    )
    print(
        f"anchor, bare uvicorn websocket app: {bare:,.1f} KiB each;"
        f" hubline/bare {per_hub / bare:.2f}; hubline over bare {per_hub - bare:,.1f} KiB"
    )
    if closed:
        sys.exit(f"{closed} hubs were closed by the server while idle")


if __name__ == "__main__":
    main()
