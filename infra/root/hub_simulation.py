"""What `hubline simulate hubs` runs on: the owner's simulated hubs and shockers, found or
made in the store, each with a fresh pair code, then run by the hub-side client
(gateways/openshock/hub_simulator.py) against a server as real hubs would be.

Hubs are named "Simulated hub 1" … and shockers "Simulated shocker 1" …, so a second run
finds and reuses what the first made instead of adding more. The store is reached as every
CLI command reaches it (infra/root/offline.py), acting for the owner as their session would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import sys
from datetime import UTC, datetime
from uuid import UUID

from domain.context import CommandContext
from domain.errors import DomainError
from domain.openshock.commands import CreateHub, IssuePairCode, RegisterShocker
from domain.openshock.errors import PairCodeTaken
from domain.openshock.hub import Hub, HubOwner, hub_owner_id
from domain.openshock.shocker import Shocker
from domain.openshock.values import MAX_HUBS_PER_USER, MAX_RF_ID, Caller, ShockerModel
from gateways.openshock.hub_simulator import MODEL_NAMES, SimulatedHub, SimulatedShocker, run
from infra.command_bus import CommandBus
from infra.identity.secret_box import SecretBox, master_key
from infra.openshock.hub_tokens import SealedHubTokens
from infra.root import offline
from infra.settings import Settings
from infra.store.aggregates import AggregateLoader

_CONTEXT = CommandContext(actor_id="simulator", actor_kind="cli")
HUB_NAME = "Simulated hub {}"
SHOCKER_NAME = "Simulated shocker {}"
# The schema numbers models in the order the domain lists them.
_WIRE_MODELS = {model.value: number for number, model in enumerate(ShockerModel)}
_MODELS = list(ShockerModel)
# A drawn pair code may be another hub's live code; this many draws find a free one.
_PAIR_CODE_DRAWS = 20


class SimulationRefused(Exception):
    """What the command says instead of simulating (no such user, no room for the hubs)."""


def provision(settings: Settings, login: str, count: int, shockers: int) -> list[SimulatedHub]:
    """The owner's `count` simulated hubs with at least `shockers` shockers each, paired anew."""
    admin = offline.administration(settings)
    user = admin.natural_keys.user_by_login(login)
    if user is None:
        raise SimulationRefused(f"no user {login!r} (give a username or an e-mail)")
    aggregates = AggregateLoader(admin.store)
    caller = Caller(UUID(user.subject))
    existing = _hubs_of(aggregates, user.subject)
    names = [HUB_NAME.format(n) for n in range(1, count + 1)]
    missing = [name for name in names if name not in {hub.name for hub in existing}]
    if len(existing) + len(missing) > MAX_HUBS_PER_USER:
        raise SimulationRefused(
            f"{login} has {len(existing)} of the {MAX_HUBS_PER_USER} hubs a user may have: "
            f"--count {count} needs {len(missing)} more"
        )
    tokens = SealedHubTokens(SecretBox(master_key(settings)), aggregates)
    for name in missing:
        minted = tokens.mint()
        try:
            admin.bus.execute_now(
                CreateHub(
                    caller=caller,
                    name=name,
                    token_hash=minted.token_hash,
                    sealed_token=minted.sealed,
                    context=_CONTEXT,
                )
            )
        except DomainError as exc:  # a hub added meanwhile took the last place
            raise SimulationRefused(str(exc)) from exc
    by_name = {hub.name: hub for hub in reversed(_hubs_of(aggregates, user.subject))}
    simulated = []
    for name in names:
        hub = by_name[name]
        found = _shockers_of(aggregates, hub)
        for n in range(1, shockers + 1):
            if SHOCKER_NAME.format(n) not in {s.name for s in found}:
                _add_shocker(admin.bus, caller, hub.id, n, found)
                found = _shockers_of(aggregates, hub)
        code = _pair_code(admin.bus, caller, hub.id)
        simulated.append(
            SimulatedHub(
                name=name,
                pair_code=code,
                shockers=tuple(
                    SimulatedShocker(s.name, _WIRE_MODELS.get(s.model, 0), s.rf_id) for s in found
                ),
            )
        )
    return simulated


def simulate(base_url: str, hubs: list[SimulatedHub]) -> bool:
    """Runs the hubs until Ctrl-C or SIGTERM (True), or until every hub was refused."""

    def say(line: str) -> None:
        print(line, flush=True)

    async def until_stopped() -> bool:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        return await run(base_url, hubs, say, stop)

    # A line per request would drown the commands; the simulator says what went wrong.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for hub in hubs:
        listed = ", ".join(
            f"{s.name} ({MODEL_NAMES.get(s.model, s.model)} {s.rf_id})" for s in hub.shockers
        )
        print(f"{hub.name}: pair code {hub.pair_code}; {listed}", file=sys.stderr, flush=True)
    stopped = asyncio.run(until_stopped())
    print("the simulated hubs " + ("stopped" if stopped else "were all refused"), file=sys.stderr)
    return stopped


def _hubs_of(aggregates: AggregateLoader, user_id: str) -> list[Hub]:
    owner = aggregates.get(HubOwner, hub_owner_id(user_id))
    found = (aggregates.get(Hub, UUID(hub_id)) for hub_id in (owner.hubs if owner else []))
    return [hub for hub in found if hub is not None and not hub.deleted]


def _shockers_of(aggregates: AggregateLoader, hub: Hub) -> list[Shocker]:
    hub = aggregates.get(Hub, hub.id) or hub  # the shockers attached since it was read
    found = (aggregates.get(Shocker, UUID(shocker_id)) for shocker_id in hub.shockers)
    return [shocker for shocker in found if shocker is not None and not shocker.deleted]


def _add_shocker(
    bus: CommandBus, caller: Caller, hub_id: UUID, n: int, found: list[Shocker]
) -> None:
    model = _MODELS[(n - 1) % len(_MODELS)]
    taken = {s.rf_id for s in found if s.model == model.value}
    rf_id = next(r for r in iter(lambda: 1 + secrets.randbelow(MAX_RF_ID), 0) if r not in taken)
    try:
        bus.execute_now(
            RegisterShocker(
                caller=caller,
                hub_id=hub_id,
                name=SHOCKER_NAME.format(n),
                rf_id=rf_id,
                model=model.value,
                context=_CONTEXT,
            )
        )
    except DomainError as exc:  # the hub is full (11 shockers)
        raise SimulationRefused(str(exc)) from exc


def _pair_code(bus: CommandBus, caller: Caller, hub_id: UUID) -> str:
    for _ in range(_PAIR_CODE_DRAWS):
        code = str(100_000 + secrets.randbelow(900_000))
        with contextlib.suppress(PairCodeTaken):
            bus.execute_now(
                IssuePairCode(
                    caller=caller, hub_id=hub_id, code=code, now=datetime.now(UTC), context=_CONTEXT
                )
            )
            return code
    raise SimulationRefused("no free pair code was found; try again")
