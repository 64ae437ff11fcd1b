"""`hubline --help` and each command's help: described, every option explained with its default."""

from __future__ import annotations

import argparse

import pytest

from domain.principals.permissions import ADMIN_PERMISSIONS, USER_PERMISSIONS
from infra.cli import build_parser


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """Every parser under `hubline`, with its path and the line its parent lists it with."""
    found: list[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            listed = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                found.append(((*path, name), child, listed.get(name)))
                found.extend(commands(child, (*path, name)))
    return found


ALL = commands(build_parser())
LEAVES = [(path, parser) for path, parser, _ in ALL if not parser._subparsers]


def test_there_are_commands() -> None:
    assert {"serve", "relay", "project", "tokens", "users", "clients"} <= {p[0] for p, _, _ in ALL}


@pytest.mark.parametrize("path, parser, listed", ALL, ids=[" ".join(p) for p, _, _ in ALL])
def test_every_command_is_listed_with_a_line_and_describes_itself(
    path: tuple[str, ...], parser: argparse.ArgumentParser, listed: str | None
) -> None:
    assert listed, f"`hubline {' '.join(path)}` has no line in its parent's list"
    assert parser.description, f"`hubline {' '.join(path)} --help` has no description"


def test_hubline_help_lists_every_command() -> None:
    text = build_parser().format_help()
    for path, _, listed in ALL:
        if len(path) == 1:
            assert path[0] in text and listed is not None and listed in text


@pytest.mark.parametrize("path, parser", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_option_has_help_and_shows_its_default(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    formatter = parser._get_formatter()
    shown_dests = {action.dest for action in parser._actions if action.help != argparse.SUPPRESS}
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        if action.help == argparse.SUPPRESS:
            # Only an old spelling of an option that is shown may be hidden.
            assert action.dest in shown_dests, f"{name} is hidden and has no shown spelling"
            continue
        assert action.help, f"`hubline {' '.join(path)}` {name} has no help"
        takes_value = action.nargs != 0
        if action.option_strings and not action.required and takes_value:
            expanded = formatter._expand_help(action)
            assert "default" in expanded, f"`hubline {' '.join(path)}` {name}: no default shown"


def test_tokens_create_help_lists_the_permissions_a_token_may_hold() -> None:
    create = dict((p, parser) for p, parser, _ in ALL)[("tokens", "create")]
    text = create.format_help()
    for permission in ADMIN_PERMISSIONS | USER_PERMISSIONS:
        assert permission in text


def test_the_event_log_option_is_not_the_log_level() -> None:
    parser = build_parser()
    serve_help = dict((p, c) for p, c, _ in ALL)[("serve",)].format_help()
    assert "--event-log {embedded,kafka}" in serve_help
    assert "--log-level" in serve_help
    assert "--log {" not in serve_help  # the old spelling works but is not advertised

    args = parser.parse_args(["serve", "--event-log", "kafka", "--log-level", "debug"])
    assert (args.log, args.log_level) == ("kafka", "debug")
    old = parser.parse_args(["serve", "--log", "kafka"])
    assert (old.log, old.log_level) == ("kafka", None)
    with pytest.raises(SystemExit):  # no abbreviations: --log-lev is not --log-level
        parser.parse_args(["serve", "--log-lev", "debug"])
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--log-level", "kafka"])
