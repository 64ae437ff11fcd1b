"""What every `hubline` subcommand shares: who it acts as, and how it says it failed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

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
