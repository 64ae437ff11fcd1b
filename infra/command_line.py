"""What every `hubline` subcommand shares: who it acts as, how it says it failed, how its
options are described."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from domain.context import CommandContext
from infra.settings import Settings

# Events written from the command line are recorded as the CLI's doing.
CLI_CONTEXT = CommandContext(actor_id="cli", actor_kind="cli")

# A subcommand: runs with the settings and its arguments, answers the exit status.
Subcommand = Callable[[Settings, argparse.Namespace], int]


def fail(message: str) -> int:
    """Print a one-line error as `hubline: …` and answer the usage-error status."""
    print(f"hubline: {message}", file=sys.stderr)
    return 2


class DefaultsShownFormatter(argparse.RawDescriptionHelpFormatter):
    """Appends each option's default to its help, when it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "default" in text
            or not action.option_strings
            or action.default is None
            or action.default is False
            or action.default in ([], argparse.SUPPRESS)
        ):
            return text
        return f"{text} (default: %(default)s)"


class CommandParser(argparse.ArgumentParser):
    """The parser of `hubline` and, through add_subparsers, of each of its subcommands."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsShownFormatter)
        # No abbreviations: `--log` must never quietly become `--log-level`.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def add_command(commands: Any, name: str, summary: str, **options: Any) -> argparse.ArgumentParser:
    """A subcommand, described by the same line in its parent's list and in its own --help."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=summary, description=summary, **options
    )
    return parser


def add_command_group(commands: Any, name: str, summary: str) -> Any:
    """A subcommand that only groups others (`hubline tokens create|list|revoke`)."""
    group = add_command(commands, name, summary)
    return group.add_subparsers(title="actions", dest="action", required=True, metavar="ACTION")


def settings_default(name: str) -> Any:
    """What Settings uses when neither a flag nor HUBLINE_<NAME> says otherwise."""
    return next(f.default for f in fields(Settings) if f.name == name)
