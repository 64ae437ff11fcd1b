"""The `hubline` command: serve, relay, project, tokens, projections, events."""

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
from domain.principals.permissions import parse_permissions
from infra.command_line import CLI_CONTEXT, Subcommand, fail
from infra.identity import cli as identity_cli
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
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="where the embedded deployment keeps its files (./data)")
    common.add_argument("--database", help="postgresql:// URL for the distributed deployment")
    common.add_argument("--log", choices=["embedded", "kafka"], help="which log backend")
    common.add_argument("--kafka-bootstrap", help="host:port of a Kafka broker")
    common.add_argument("--kafka-topic", help="topic that carries the log")
    common.add_argument("--kafka-partitions", type=int, help="partitions when creating the topic")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _deployment_options()
    parser = argparse.ArgumentParser(prog="hubline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", parents=[common], help="run the HTTP and websocket server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--log-level")

    commands.add_parser("relay", parents=[common], help="publish the store's log to Kafka")
    commands.add_parser("project", parents=[common], help="run a projection worker (Kafka)")

    tokens = commands.add_parser("tokens", help="API tokens").add_subparsers(
        dest="action", required=True
    )
    create = tokens.add_parser("create", parents=[common], help="issue a token (printed once)")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--permissions", required=True, help="e.g. deviceAuth:read,deviceAuth:update"
    )
    create.add_argument("--expires-in-days", type=float)
    create.add_argument("--owner", help="e-mail of the user the token acts for")
    tokens.add_parser("list", parents=[common], help="tokens, newest last (never the secret)")
    revoke = tokens.add_parser("revoke", parents=[common], help="revoke a token by id")
    revoke.add_argument("token_id")

    projections = commands.add_parser("projections", help="read models").add_subparsers(
        dest="action", required=True
    )
    rebuild = projections.add_parser("rebuild", parents=[common], help="rebuild from position 0")
    rebuild.add_argument("name")
    projections.add_parser("status", parents=[common], help="position and lag of each")

    events = commands.add_parser("events", help="the event log").add_subparsers(
        dest="action", required=True
    )
    export = events.add_parser("export", parents=[common], help="write the log as NDJSON")
    export.add_argument("--after", type=int, default=0)
    _COMMANDS.update(identity_cli.add_parsers(commands, common))
    _COMMANDS.update(thermostats_cli.add_parsers(commands, common))
    return parser


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
    import uvicorn

    from infra.root.app import create_app

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            # uvicorn closes websockets before the app's own shutdown runs: speak first.
            try:
                await app.state.before_shutdown()
            except Exception:
                log.exception("could not close the SignalR connections cleanly")
            await super().shutdown(sockets)

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws_max_size=1024 * 1024,
        ws_per_message_deflate=False,
    )
    Server(config).run()
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
