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
    RegisterClient,
    RegisterUser,
    RotateClientSecret,
    UpdateAccount,
)
from infra.command_line import CLI_CONTEXT, Subcommand, fail
from infra.root import offline
from infra.settings import Settings


def add_parsers(
    commands: Any, common: argparse.ArgumentParser
) -> dict[tuple[str, str | None], Subcommand]:
    users = commands.add_parser("users", help="people who log in").add_subparsers(
        dest="action", required=True
    )
    create_user = users.add_parser(
        "create", parents=[common], help="register a user; the password is read from stdin"
    )
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--name", required=True)
    create_user.add_argument("--role", action="append", default=[], choices=["admin", "user"])
    set_user = users.add_parser(
        "set", parents=[common], help="change a user's settings (and password, read from stdin)"
    )
    set_user.add_argument("--email", required=True)
    set_user.add_argument("--name")
    set_user.add_argument("--temperature-scale", choices=["Celsius", "Fahrenheit"])
    set_user.add_argument("--language", help="a language tag: en, nb, en-GB")
    set_user.add_argument("--password", action="store_true", help="read a new password")

    clients = commands.add_parser("clients", help="OAuth clients").add_subparsers(
        dest="action", required=True
    )
    create_client = clients.add_parser("create", parents=[common], help="register a client")
    create_client.add_argument("--name", required=True)
    create_client.add_argument("--client-id", help="default: derived from the name")
    create_client.add_argument("--redirect-uri", action="append", default=[])
    create_client.add_argument("--grant-types", default="authorization_code,refresh_token")
    create_client.add_argument("--scopes", default="openid profile restapi offline_access")
    create_client.add_argument("--public", action="store_true", help="no secret (PKCE apps)")
    create_client.add_argument("--id-token-alg", choices=["RS256", "ES256"], default="RS256")
    rotate = clients.add_parser(
        "rotate-secret", parents=[common], help="new secret; the old one stays valid for a grace"
    )
    rotate.add_argument("client_id")

    keys = commands.add_parser("keys", help="token signing keys").add_subparsers(
        dest="action", required=True
    )
    keys.add_parser(
        "rotate", parents=[common], help="add new signing keys; old ones stay published"
    )
    return {
        ("users", "create"): _create_user,
        ("users", "set"): _set_user,
        ("clients", "create"): _create_client,
        ("clients", "rotate-secret"): _rotate_secret,
        ("keys", "rotate"): _rotate_keys,
    }


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from infra.identity.passwords import hash_password

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        return fail(str(exc))
    bus = offline.administration(settings).bus
    try:
        subject = bus.execute_now(
            RegisterUser(
                email=args.email,
                name=args.name,
                password_hash=password_hash,
                roles=tuple(args.role),
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
