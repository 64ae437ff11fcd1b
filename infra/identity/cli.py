"""`hubline users|clients|keys`: identity administration, with or without the server running."""

from __future__ import annotations

import argparse
import re
import secrets
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from domain.errors import DomainError
from domain.identity.commands import (
    ChangeUsername,
    RegisterClient,
    RegisterUser,
    RotateClientSecret,
    UpdateAccount,
)
from infra.command_line import CLI_CONTEXT, Subcommand, add_command, add_command_group, fail
from infra.root import offline
from infra.settings import Settings


def add_parsers(
    commands: Any, common: argparse.ArgumentParser
) -> dict[tuple[str, str | None], Subcommand]:
    users = add_command_group(commands, "users", "people who log in: create, set")
    create_user = add_command(
        users, "create", "register a user; the password is read from stdin", parents=[common]
    )
    create_user.add_argument("--email", required=True, help="the user's e-mail, their login")
    create_user.add_argument(
        "--name", help="the name shown for the user (default: the username; one is required)"
    )
    create_user.add_argument(
        "--username",
        help="a unique login name (3 to 32 characters) that makes the user an OpenShock"
        " account; its password then follows OpenShock's rules (12 to 256 characters)"
        " (default: none, a user who logs in by e-mail only)",
    )
    create_user.add_argument(
        "--role",
        action="append",
        default=[],
        choices=["admin", "user"],
        help="a role; repeat for more (default: none, which is the same as user)",
    )
    set_user = add_command(
        users, "set", "change a user's settings (and password, read from stdin)", parents=[common]
    )
    set_user.add_argument("--email", required=True, help="which user")
    set_user.add_argument("--name", help="a new display name (default: unchanged)")
    set_user.add_argument(
        "--temperature-scale",
        choices=["Celsius", "Fahrenheit"],
        help="how temperatures are shown (default: unchanged)",
    )
    set_user.add_argument("--language", help="a language tag: en, nb, en-GB (default: unchanged)")
    set_user.add_argument("--password", action="store_true", help="read a new password from stdin")
    set_user.add_argument(
        "--username",
        help="a new unique login name; the 7-day wait between changes is waived"
        " (default: unchanged)",
    )

    clients = add_command_group(commands, "clients", "OAuth clients: create, rotate-secret")
    create_client = add_command(
        clients, "create", "register a client; prints its id and secret", parents=[common]
    )
    create_client.add_argument("--name", required=True, help="the name users see on consent")
    create_client.add_argument("--client-id", help="the client id (default: derived from the name)")
    create_client.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="where authorization answers may be sent; repeat for more (default: none)",
    )
    create_client.add_argument(
        "--grant-types",
        default="authorization_code,refresh_token",
        help="comma-separated OAuth grant types the client may use",
    )
    create_client.add_argument(
        "--scopes",
        default="openid profile restapi offline_access",
        help="space-separated scopes the client may ask for",
    )
    create_client.add_argument(
        "--public", action="store_true", help="a public client: no secret (apps using PKCE)"
    )
    create_client.add_argument(
        "--id-token-alg",
        choices=["RS256", "ES256"],
        default="RS256",
        help="how the client's ID tokens are signed",
    )
    rotate = add_command(
        clients,
        "rotate-secret",
        "new secret; the old one stays valid for a grace period",
        parents=[common],
    )
    rotate.add_argument("client_id", help="the client whose secret is replaced")

    keys = add_command_group(commands, "keys", "token signing keys: rotate")
    add_command(keys, "rotate", "add new signing keys; old ones stay published", parents=[common])
    return {
        ("users", "create"): _create_user,
        ("users", "set"): _set_user,
        ("clients", "create"): _create_client,
        ("clients", "rotate-secret"): _rotate_secret,
        ("keys", "rotate"): _rotate_keys,
    }


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from domain.identity.password_policy import HUBLINE_PASSWORDS, OPENSHOCK_PASSWORDS
    from domain.identity.username import username_problem
    from infra.identity.passwords import hash_password

    name = args.name or args.username
    if name is None:
        return fail("give --name, --username or both")
    if args.username is not None:
        # Checked before the slow hash and the store: a bad name costs nothing.
        problem = username_problem(args.username)
        if problem is not None:
            return fail(f"--username: {problem}")
    policy = HUBLINE_PASSWORDS if args.username is None else OPENSHOCK_PASSWORDS
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        password_hash = hash_password(password, policy)
    except ValueError as exc:
        return fail(str(exc))
    bus = offline.administration(settings).bus
    try:
        subject = bus.execute_now(
            RegisterUser(
                email=args.email,
                name=name,
                password_hash=password_hash,
                roles=tuple(args.role),
                username=args.username,
                context=CLI_CONTEXT,
            )
        )
    except DomainError as exc:
        return fail(str(exc))
    print(subject)
    return 0


def _set_user(settings: Settings, args: argparse.Namespace) -> int:
    from domain.identity.user import user_id
    from infra.identity.passwords import hash_password

    password_hash = None
    if args.password:
        try:
            password_hash = hash_password(sys.stdin.readline().rstrip("\r\n"))
        except ValueError as exc:
            return fail(str(exc))
    bus = offline.administration(settings).bus
    try:
        bus.execute_now(
            UpdateAccount(
                subject=str(user_id(args.email)),
                name=args.name,
                temperature_scale=args.temperature_scale,
                language=args.language,
                password_hash=password_hash,
                context=CLI_CONTEXT,
            )
        )
        if args.username is not None:
            bus.execute_now(
                ChangeUsername(
                    subject=str(user_id(args.email)),
                    username=args.username,
                    at=datetime.now(UTC),
                    ignore_cooldown=True,
                    context=CLI_CONTEXT,
                )
            )
    except DomainError as exc:
        return fail(str(exc))
    return 0


def _create_client(settings: Settings, args: argparse.Namespace) -> int:
    from infra.identity.credentials import mint_client_secret

    slug = re.sub(r"[^a-z0-9]+", "-", args.name.lower()).strip("-")[:40] or "client"
    client_id = args.client_id or f"{slug}-{secrets.token_hex(3)}"
    secret, secret_hash = (None, None) if args.public else mint_client_secret()
    bus = offline.administration(settings).bus
    try:
        bus.execute_now(
            RegisterClient(
                client_id=client_id,
                name=args.name,
                public=args.public,
                redirect_uris=tuple(args.redirect_uri),
                grant_types=tuple(g.strip() for g in args.grant_types.split(",") if g.strip()),
                scopes=tuple(args.scopes.split()),
                secret_hash=secret_hash,
                id_token_alg=args.id_token_alg,
                context=CLI_CONTEXT,
            )
        )
    except DomainError as exc:
        return fail(str(exc))
    sys.stdout.write(orjson.dumps({"client_id": client_id, "client_secret": secret}).decode())
    sys.stdout.write("\n")
    return 0


def _rotate_secret(settings: Settings, args: argparse.Namespace) -> int:
    from infra.identity.credentials import mint_client_secret

    secret, secret_hash = mint_client_secret()
    grace = timedelta(seconds=settings.client_secret_grace_seconds)
    bus = offline.administration(settings).bus
    try:
        bus.execute_now(
            RotateClientSecret(
                client_id=args.client_id,
                secret_hash=secret_hash,
                previous_valid_until=datetime.now(UTC) + grace,
                context=CLI_CONTEXT,
            )
        )
    except DomainError as exc:
        return fail(str(exc))
    sys.stdout.write(orjson.dumps({"client_id": args.client_id, "client_secret": secret}).decode())
    sys.stdout.write("\n")
    return 0


def _rotate_keys(settings: Settings, args: argparse.Namespace) -> int:
    for kid in offline.administration(settings).signing_keys().rotate():
        print(kid)
    return 0
