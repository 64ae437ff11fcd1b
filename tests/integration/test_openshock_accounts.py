"""OpenShock accounts on both deployments: one username per user under racing signups, and
login sessions that slide with use and end when revoked, on any node."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.context import CommandContext
from domain.errors import DomainError
from domain.identity.commands import RegisterUser, RevokeLoginSession, StartLoginSession
from domain.identity.user import User, user_id
from domain.identity.username import Username, UsernameOrEmailExists, username_id
from infra.command_bus import CommandBus
from infra.identity.login_sessions import mint_session_token, session_id_of
from infra.root.services import HANDLERS
from infra.store.event_store import EventStore
from projections.login_session_view import list_sessions
from tests.integration.running import eventually, running_hub, settings_for

pytestmark = pytest.mark.anyio

SIGNUP = CommandContext(actor_id="anonymous", actor_kind="user", source_address="192.0.2.1")


def signup(email: str, username: str) -> RegisterUser:
    return RegisterUser(
        email=email, name=username, password_hash="h", username=username, context=SIGNUP
    )


def test_two_nodes_racing_for_one_username_let_exactly_one_win(
    deployment: dict[str, str],
) -> None:
    """Two processes' buses sign up different e-mails with one name (in different cases) at
    the same moment: the store's conditional append on the name's claim lets one through."""
    settings = settings_for(deployment)
    stores = [EventStore(settings) for _ in range(2)]
    buses = [CommandBus(store.app, HANDLERS) for store in stores]
    rounds = 12
    barrier = threading.Barrier(2)

    def racer(side: int) -> list[str | None]:
        outcomes: list[str | None] = []
        for n in range(rounds):
            name = f"Racer{n}" if side == 0 else f"RACER{n}"
            barrier.wait(timeout=30)
            try:
                outcomes.append(buses[side].execute_now(signup(f"s{side}-{n}@example.com", name)))
            except UsernameOrEmailExists:
                outcomes.append(None)
        return outcomes

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.map(racer, range(2))
        repository = stores[0].app.repository
        for n in range(rounds):
            winners = [s for s in (first[n], second[n]) if s is not None]
            assert len(winners) == 1, (n, first[n], second[n])
            claim = repository.get(username_id(f"racer{n}"))
            assert isinstance(claim, Username) and claim.holder == winners[0]
            loser = 1 if first[n] is not None else 0
            with pytest.raises(Exception):  # noqa: B017 - the store's own "not found"
                repository.get(user_id(f"s{loser}-{n}@example.com"))
    finally:
        for store in stores:
            store.close()


async def test_one_batch_with_two_signups_for_one_name_keeps_one(
    deployment: dict[str, str],
) -> None:
    async with running_hub(deployment) as hub:
        results = await asyncio.gather(
            hub.bus.execute(signup("one@example.com", "Shared")),
            hub.bus.execute(signup("two@example.com", "shared")),
            return_exceptions=True,
        )
        assert sum(isinstance(r, str) for r in results) == 1
        assert sum(isinstance(r, UsernameOrEmailExists) for r in results) == 1
        user = hub.natural_keys.user_by_login("SHARED")
        assert user is not None and user.subject in results
        assert hub.natural_keys.user_by_login("One@Example.com") is not None or (
            hub.natural_keys.user_by_login("two@example.com") is not None
        )


async def start_session(hub: Any, subject: str) -> tuple[str, str]:
    token, token_hash = mint_session_token()
    grant_id = await hub.bus.execute(
        StartLoginSession(
            session_hash=token_hash,
            subject=subject,
            user_agent="python-httpx/0.28",
            address="192.0.2.9",
            at=datetime.now(UTC),
            context=SIGNUP,
        )
    )
    return token, str(grant_id)


async def test_a_session_slides_with_use_and_is_listed_until_revoked(
    deployment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every use is due for recording, so that sliding shows without waiting an hour.
    monkeypatch.setattr("domain.identity.token_grant.SESSION_TOUCH_INTERVAL", timedelta(0))
    monkeypatch.setattr("infra.identity.login_sessions.SESSION_TOUCH_INTERVAL", timedelta(0))
    async with running_hub(deployment) as hub:
        subject = await hub.bus.execute(signup("ada@example.com", "Ada"))
        token, session_id = await start_session(hub, subject)
        assert str(session_id_of(token)) == session_id

        first = await asyncio.to_thread(hub.login_sessions.authenticate, token)
        assert first is not None
        principal = first.principal
        assert principal.id == subject and principal.credential_kind == "session"
        assert principal.credential_id == session_id
        assert first.credential.revocable is not None
        assert first.credential.revocable.kind == "grant"
        await asyncio.sleep(0.05)
        second = await asyncio.to_thread(hub.login_sessions.authenticate, token)
        assert second is not None and second.credential.expires_at is not None
        assert first.credential.expires_at is not None
        assert second.credential.expires_at > first.credential.expires_at
        grant = hub.natural_keys.login_session(hub_hash(token))
        assert grant is not None and grant.last_used_at is not None
        assert grant.expires_at is not None
        assert grant.expires_at.timestamp() == second.credential.expires_at

        await hub.view_reader.fresh_views()
        listed = await hub.view_reader.query(list_sessions, subject, datetime.now(UTC))
        assert [row.id for row in listed] == [session_id]
        assert listed[0].address == "192.0.2.9" and listed[0].user_agent == "python-httpx/0.28"
        assert listed[0].last_used_at is not None
        assert listed[0].expires_at == grant.expires_at.isoformat()

        with pytest.raises(DomainError):
            await hub.bus.execute(
                RevokeLoginSession(
                    grant_id=grant.id, subject=str(user_id("bob@example.com")), context=SIGNUP
                )
            )
        await hub.bus.execute(
            RevokeLoginSession(grant_id=grant.id, subject=subject, context=SIGNUP)
        )
        assert await asyncio.to_thread(hub.login_sessions.authenticate, token) is None
        assert not hub.authenticator.is_active(first.credential.revocable)
        await hub.view_reader.fresh_views()
        assert await hub.view_reader.query(list_sessions, subject, datetime.now(UTC)) == []
        assert await asyncio.to_thread(hub.login_sessions.authenticate, "x" * 32) is None
        assert await asyncio.to_thread(hub.login_sessions.authenticate, "x" * 300) is None


async def test_a_session_revoked_by_another_node_stops_working_here(
    deployment: dict[str, str],
) -> None:
    async with running_hub(deployment) as hub:
        subject = await hub.bus.execute(signup("ada@example.com", "Ada"))
        token, _ = await start_session(hub, subject)
        assert await asyncio.to_thread(hub.login_sessions.authenticate, token) is not None

        # Known valid here once this node's feed has passed the session's own Started event
        # (the grant's kept state is forgotten whenever the log shows a change to it; on
        # the distributed deployment that event may come after the first read).
        def kept() -> bool:
            return (
                hub.login_sessions.authenticate(token) is not None
                and hub.login_sessions.known(token) is not None
            )

        await eventually(kept, within=30)
        other = EventStore(hub.settings)
        try:
            CommandBus(other.app, HANDLERS).execute_now(
                RevokeLoginSession(grant_id=session_id_of(token), reason="deleted", context=SIGNUP)
            )
        finally:
            other.close()

        def refused() -> bool:
            return hub.login_sessions.authenticate(token) is None

        await eventually(refused, within=30)
        assert hub.login_sessions.known(token) is None
        user = hub.aggregates.get(User, user_id("ada@example.com"))
        assert user is not None and user.username == "Ada"


def hub_hash(token: str) -> str:
    from infra.identity.credentials import hash_token

    return hash_token(token)


def cli_flags(deployment: dict[str, str]) -> list[str]:
    flags = ["--data-dir", deployment["data_dir"]]
    if "database" in deployment:
        flags += ["--database", deployment["database"]]
    return flags


def run_cli(
    monkeypatch: pytest.MonkeyPatch, deployment: dict[str, str], *args: str, stdin: str = ""
) -> int:
    import io

    from infra.cli import main

    if "secret_key" in deployment:
        monkeypatch.setenv("HUBLINE_SECRET_KEY", deployment["secret_key"])
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main([*args, *cli_flags(deployment)])


def test_the_cli_makes_openshock_users_with_openshocks_password_rules(
    deployment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    create = ("users", "create", "--email", "ada@example.com", "--username", "Ada")
    # Hubline's 8 characters are not enough for an OpenShock account.
    assert run_cli(monkeypatch, deployment, *create, stdin="eight888\n") == 2
    assert "at least 12" in capsys.readouterr().err
    assert run_cli(monkeypatch, deployment, *create, stdin="twelve chars\n") == 0
    subject = capsys.readouterr().out.strip()
    again = ("users", "create", "--email", "bob@example.com", "--username", "ADA")
    assert run_cli(monkeypatch, deployment, *again, stdin="twelve chars\n") == 2
    assert "taken" in capsys.readouterr().err
    bad = ("users", "create", "--email", "bob@example.com", "--username", "b@d")
    assert run_cli(monkeypatch, deployment, *bad, stdin="twelve chars\n") == 2
    assert "resemble an email" in capsys.readouterr().err
    rename = ("users", "set", "--email", "ada@example.com", "--username", "Lovelace")
    assert run_cli(monkeypatch, deployment, *rename) == 0
    # A user without a username, as before.
    plain = ("users", "create", "--email", "plain@example.com", "--name", "Plain")
    assert run_cli(monkeypatch, deployment, *plain, stdin="eight888\n") == 0
    capsys.readouterr()

    store = EventStore(settings_for(deployment))
    try:
        repository = store.app.repository
        ada = repository.get(user_id("ada@example.com"))
        assert isinstance(ada, User) and ada.subject == subject
        assert ada.username == "Lovelace" and ada.name == "Ada"
        old = repository.get(username_id("ada"))
        assert isinstance(old, Username) and old.holder is None
        plain_user = repository.get(user_id("plain@example.com"))
        assert isinstance(plain_user, User) and plain_user.username is None
    finally:
        store.close()
