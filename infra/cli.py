"""Hubline: an event-sourced backend for devices and realtime apps."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson

from domain.principals.commands import IssueApiToken, RevokeApiToken
from domain.principals.permissions import (
    ADMIN_PERMISSIONS,
    USER_PERMISSIONS,
    parse_permissions,
)
from infra.command_line import (
    CLI_CONTEXT,
    CommandParser,
    Subcommand,
    add_command,
    add_command_group,
    fail,
    settings_default,
)
from infra.identity import cli as identity_cli
from infra.openshock import cli as openshock_cli
from infra.pusher import cli as pusher_cli
from infra.root import offline
from infra.settings import Settings
from infra.thermostats import cli as thermostats_cli

log = logging.getLogger("hubline")

_DEPLOYMENT_FLAGS = (
    "data_dir",
    "database",
    "log",
    "kafka_bootstrap",
    "kafka_topic",
    "kafka_partitions",
)


def _deployment_options() -> argparse.ArgumentParser:
    common = CommandParser(add_help=False)
    where = common.add_argument_group("deployment (the same for every command of one Hubline)")
    where.add_argument(
        "--data-dir",
        help="where the embedded deployment keeps its files "
        f"(default: ./{settings_default('data_dir')})",
    )
    where.add_argument(
        "--database",
        metavar="URL",
        help="postgresql:// URL of the distributed deployment's store "
        "(default: an SQLite file in the data dir)",
    )
    where.add_argument(
        "--event-log",
        dest="log",
        choices=["embedded", "kafka"],
        help="where gateways and views read new events: from the store itself (embedded), "
        "or from Kafka, which `hubline relay` feeds (needs --database) "
        f"(default: {settings_default('log')})",
    )
    # The old spelling, too easily read as --log-level; kept so that existing scripts work.
    where.add_argument("--log", dest="log", choices=["embedded", "kafka"], help=argparse.SUPPRESS)
    where.add_argument(
        "--kafka-bootstrap",
        metavar="HOST:PORT",
        help=f"a Kafka broker (default: {settings_default('kafka_bootstrap')})",
    )
    where.add_argument(
        "--kafka-topic",
        help=f"the topic that carries the event log (default: {settings_default('kafka_topic')})",
    )
    where.add_argument(
        "--kafka-partitions",
        type=int,
        metavar="N",
        help="partitions when the topic is created; more spread projection workers, one keeps "
        f"a total order (default: {settings_default('kafka_partitions')})",
    )
    return common


def _permissions_help() -> str:
    # What roles give is what API tokens serve for; scope permissions (SENZ) need OAuth.
    usable = sorted(ADMIN_PERMISSIONS | USER_PERMISSIONS)
    return (
        "comma-separated resource:action pairs, or resource:* for every action of a "
        f"resource; one of: {', '.join(usable)}"
    )


def build_parser() -> argparse.ArgumentParser:
    common = _deployment_options()
    parser = CommandParser(prog="hubline", description=__doc__, epilog=_EPILOG)
    commands = parser.add_subparsers(
        title="commands", dest="command", required=True, metavar="COMMAND"
    )

    serve = add_command(commands, "serve", "run the HTTP and websocket server", parents=[common])
    serve.add_argument("--host", help=f"address to listen on (default: {settings_default('host')})")
    serve.add_argument(
        "--port", type=int, help=f"port to listen on (default: {settings_default('port')})"
    )
    serve.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug"],
        help=f"how much the process logs (default: {settings_default('log_level')})",
    )

    add_command(commands, "relay", "publish the store's event log to Kafka", parents=[common])
    add_command(
        commands,
        "project",
        "run a projection worker (reads Kafka, keeps the views)",
        parents=[common],
    )

    tokens = add_command_group(commands, "tokens", "API tokens: create, list, revoke")
    create = add_command(tokens, "create", "issue a token (printed once)", parents=[common])
    create.add_argument("--name", required=True, help="what the token is for, shown in lists")
    create.add_argument("--permissions", required=True, help=_permissions_help())
    create.add_argument(
        "--expires-in-days",
        type=float,
        metavar="DAYS",
        help="the token stops working after this many days (default: never)",
    )
    create.add_argument(
        "--owner",
        metavar="EMAIL",
        help="e-mail of the user the token acts for (default: no user, the token acts alone)",
    )
    add_command(tokens, "list", "tokens, newest last (never the secret)", parents=[common])
    revoke = add_command(tokens, "revoke", "revoke a token by id", parents=[common])
    revoke.add_argument("token_id", help="the id `tokens create` and `tokens list` print")

    projections = add_command_group(commands, "projections", "read models: status, rebuild")
    rebuild = add_command(
        projections, "rebuild", "rebuild a view from position 0", parents=[common]
    )
    rebuild.add_argument("name", help="the view's name, as `projections status` lists it")
    add_command(projections, "status", "position and lag of each view", parents=[common])

    events = add_command_group(commands, "events", "the event log: export")
    export = add_command(events, "export", "write the log as NDJSON to stdout", parents=[common])
    export.add_argument(
        "--after",
        type=int,
        default=0,
        metavar="POSITION",
        help="start after this log position",
    )
    _COMMANDS.update(identity_cli.add_parsers(commands, common))
    simulate = add_command_group(
        commands, "simulate", "simulated devices: SENZ thermostats, OpenShock hubs"
    )
    _COMMANDS.update(thermostats_cli.add_parsers(commands, simulate, common))
    _COMMANDS.update(openshock_cli.add_parsers(simulate, common))
    _COMMANDS.update(pusher_cli.add_parsers(commands, common))
    return parser


_EPILOG = """\
Every option of the settings can also come from the environment as HUBLINE_<NAME>
(HUBLINE_DATA_DIR, HUBLINE_DATABASE, HUBLINE_EVENT_LOG for --event-log, HUBLINE_MAX_CONNECTIONS …);
a flag wins over the environment. `hubline COMMAND --help` describes each command."""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    flags = {
        name: getattr(args, name, None)
        for name in (*_DEPLOYMENT_FLAGS, "host", "port", "log_level")
    }
    try:
        settings = Settings.load(flags)
    except ValueError as exc:
        return fail(str(exc))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    handler = _COMMANDS[(args.command, getattr(args, "action", None))]
    status: int = handler(settings, args)
    return status


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from infra.root.app import create_app
    from infra.transport.server import serve

    app = create_app(settings)
    serve(app, settings, before_shutdown=app.state.before_shutdown)
    return 0


def _relay(settings: Settings, args: argparse.Namespace) -> int:
    relay = offline.relay(settings)
    _stop_on_signal(relay.stop)
    log.info("relaying the log from position %s to %s", relay.position(), settings.kafka_topic)
    relay.run()
    relay.close()
    return 0


def _project(settings: Settings, args: argparse.Namespace) -> int:
    worker = offline.projection_worker(settings)
    _stop_on_signal(worker.stop)
    log.info("projection worker consuming %s", settings.kafka_topic)
    worker.run()
    worker.close()
    return 0


def _stop_on_signal(stop: Any) -> None:
    def handler(signum: int, frame: object) -> None:
        stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


def _tokens_create(settings: Settings, args: argparse.Namespace) -> int:
    from infra.identity.credentials import mint_token

    try:
        permissions = parse_permissions(args.permissions)
    except ValueError as exc:
        return fail(str(exc))
    expires_at = (
        datetime.now(UTC) + timedelta(days=args.expires_in_days) if args.expires_in_days else None
    )
    admin = offline.administration(settings)
    owner = None
    if args.owner:
        user = admin.natural_keys.user_by_email(args.owner)
        if user is None:
            return fail(f"no user {args.owner}")
        owner = user.subject
    token, token_hash = mint_token()
    token_id = admin.bus.execute_now(
        IssueApiToken(
            name=args.name,
            token_hash=token_hash,
            permissions=permissions,
            expires_at=expires_at,
            owner=owner,
            context=CLI_CONTEXT,
        )
    )
    print(f"token id: {token_id}", file=sys.stderr)
    print(f"permissions: {','.join(permissions)}", file=sys.stderr)
    print(token)
    return 0


def _tokens_list(settings: Settings, args: argparse.Namespace) -> int:
    from projections.api_token_view import list_tokens

    views = offline.projections(settings, applies=True)  # it brings the view up to date
    views.runner.catch_up(views.store)
    with views.runner.views.transaction(write=False) as tx:
        rows = list_tokens(tx)
    for row in rows:
        state = "revoked" if row.revoked_at else "active"
        print(
            f"{row.id}  {state:<7}  {row.name}  {','.join(row.permissions)}"
            f"  owner={row.owner or '-'}  last used={row.last_used_at or 'never'}"
        )
    return 0


def _tokens_revoke(settings: Settings, args: argparse.Namespace) -> int:
    try:
        token_id = UUID(args.token_id)
    except ValueError:
        return fail("token id must be a UUID")
    offline.administration(settings).bus.execute_now(
        RevokeApiToken(token_id=token_id, context=CLI_CONTEXT)
    )
    print(f"revoked {token_id}", file=sys.stderr)
    return 0


def _projections_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    views = offline.projections(settings, applies=True)
    store, runner = views.store, views.runner
    if args.name not in runner.projections:
        return fail(f"no projection {args.name!r}; known: {', '.join(runner.projections)}")
    head = store.head()
    with tqdm(total=head, desc=f"rebuilding {args.name}", unit="event", file=sys.stderr) as bar:

        def progress(position: int, total: int) -> None:
            bar.total = total
            bar.update(position - bar.n)

        applied = runner.rebuild(args.name, store, progress=progress)
    print(f"rebuilt {args.name}: {applied} events, position {runner.position(args.name)}")
    return 0


def _projections_status(settings: Settings, args: argparse.Namespace) -> int:
    views = offline.projections(settings, applies=False)  # looking changes nothing
    store, runner = views.store, views.runner
    head = store.head()
    print(f"{'projection':<20} {'position':>10} {'lag':>10}")
    for name in runner.projections:
        position = runner.position(name)
        print(f"{name:<20} {position:>10} {head - position:>10}")
    print(f"{'log head':<20} {head:>10}")
    return 0


def _events_export(settings: Settings, args: argparse.Namespace) -> int:
    from projections.audit_view import redact

    store = offline.event_store(settings)
    position = args.after
    out = sys.stdout.buffer
    while True:
        records = store.read(after=position, limit=1000)
        if not records:
            break
        for record in records:
            payload = redact(record.payload)
            line = {
                "position": record.position,
                "timestamp": record.timestamp,
                "type": record.type,
                "aggregateId": record.aggregate_id,
                "aggregateVersion": record.version,
                "actor": payload.pop("meta", {}),
                "payload": payload,
            }
            out.write(orjson.dumps(line) + b"\n")
        position = records[-1].position
    out.flush()
    return 0


_COMMANDS: dict[tuple[str, str | None], Subcommand] = {
    ("serve", None): _serve,
    ("relay", None): _relay,
    ("project", None): _project,
    ("tokens", "create"): _tokens_create,
    ("tokens", "revoke"): _tokens_revoke,
    ("tokens", "list"): _tokens_list,
    ("projections", "rebuild"): _projections_rebuild,
    ("projections", "status"): _projections_status,
    ("events", "export"): _events_export,
}


if __name__ == "__main__":
    raise SystemExit(main())
