"""Issue 9, defect 7: input that passed validation though it should not have.

Schedule times are ASCII HH:mm and nothing more; Auto and Off check a temperature they are
sent as Manual would; an API token holds only what the user's role gives, not what a
client's scope lends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.context import CommandContext
from domain.errors import DomainError
from domain.principals.permissions import (
    Principal,
    may_give_to_api_token,
    permissions_for_access_token,
)
from domain.thermostats.commands import RegisterThermostat, SetMode
from domain.thermostats.handlers import HANDLERS
from domain.thermostats.schedule import validated
from domain.thermostats.thermostat import DEFAULT_SET_POINT, Mode, Thermostat, thermostat_id
from tests.unit.fakes import MemoryUnitOfWork

OWNER = "ada"
SERIAL = "SENZ-0001"
CONTEXT = CommandContext(actor_id=OWNER, actor_kind="user", credential_id="token-1")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ABSOLUTE, RELATIVE = 0, 1


# -- schedule times ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "time",
    [
        "06:00\n",  # `$` matched before a trailing newline
        "0\u0663:30",  # ARABIC-INDIC DIGIT THREE: `\d` and int() take it
        "\u0660\u0666:\u0660\u0660",
        "06:0\uff10",  # FULLWIDTH DIGIT ZERO
        "06:00 ",
        " 06:00",
        "6:00",
        "24:00",
    ],
)
def test_a_schedule_time_is_ascii_hh_mm_and_nothing_more(time: str) -> None:
    with pytest.raises(DomainError, match="time must be HH:mm"):
        validated([{"day": "Monday", "time": time, "temperature": 2000}], 500, 3500)


def test_ascii_times_still_pass() -> None:
    entries = [{"day": "Monday", "time": t, "temperature": 2000} for t in ("00:00", "23:59")]
    assert [e["time"] for e in validated(entries, 500, 3500)] == ["00:00", "23:59"]


# -- Auto and Off with temperature fields -----------------------------------------------


@pytest.fixture
def uow() -> MemoryUnitOfWork:
    uow = MemoryUnitOfWork(HANDLERS)
    uow.run(RegisterThermostat(serial_number=SERIAL, owner=OWNER, name="Hall", context=CONTEXT))
    return uow


def set_mode(
    uow: MemoryUnitOfWork,
    mode: Mode,
    temperature: int | None = None,
    temperature_type: int = ABSOLUTE,
    hold_until: datetime | None = None,
) -> tuple[int, int]:
    uow.run(
        SetMode(
            serial_number=SERIAL,
            user=OWNER,
            mode=mode,
            temperature=temperature,
            temperature_type=temperature_type,
            hold_until=hold_until,
            now=NOW,
            context=CONTEXT,
        )
    )
    thermostat = uow.get(Thermostat, thermostat_id(SERIAL))
    assert thermostat is not None
    return thermostat.mode, thermostat.set_point


@pytest.mark.parametrize("mode", [Mode.AUTO, Mode.OFF])
@pytest.mark.parametrize(
    ("temperature", "temperature_type", "refusal"),
    [
        (9000, ABSOLUTE, "between 5 and 35 °C"),
        (100, ABSOLUTE, "between 5 and 35 °C"),
        (2000, RELATIVE, "between 5 and 35 °C"),  # 20 °C + 20 °C
        (2000, 7, "temperatureType must be 0"),
        (None, 7, "temperatureType must be 0"),
    ],
)
def test_auto_and_off_refuse_what_manual_refuses(
    uow: MemoryUnitOfWork,
    mode: Mode,
    temperature: int | None,
    temperature_type: int,
    refusal: str,
) -> None:
    with pytest.raises(DomainError, match=refusal):
        set_mode(uow, mode, temperature=temperature, temperature_type=temperature_type)
    with pytest.raises(DomainError, match=refusal):
        set_mode(uow, Mode.MANUAL, temperature=temperature, temperature_type=temperature_type)


@pytest.mark.parametrize("mode", [Mode.AUTO, Mode.OFF])
@pytest.mark.parametrize(
    ("temperature", "temperature_type"), [(None, ABSOLUTE), (2400, ABSOLUTE), (-300, RELATIVE)]
)
def test_auto_and_off_still_take_a_valid_temperature_and_ignore_it(
    uow: MemoryUnitOfWork, mode: Mode, temperature: int | None, temperature_type: int
) -> None:
    expected = DEFAULT_SET_POINT if mode == Mode.AUTO else 0
    assert set_mode(uow, mode, temperature, temperature_type) == (mode, expected)


# -- what a user may put in an API token ------------------------------------------------


def user_through_a_client(roles: list[str], scopes: list[str]) -> Principal:
    """A user presenting an access token, as infra/identity/token_authenticator.py makes it."""
    return Principal("ada", "user", permissions_for_access_token(roles, scopes), "jti-1")


@pytest.mark.parametrize("permission", ["account:read", "thermostats:read", "thermostats:update"])
@pytest.mark.parametrize("roles", [["user"], ["admin"]])
def test_a_scopes_permissions_are_not_the_users_to_give(permission: str, roles: list[str]) -> None:
    principal = user_through_a_client(roles, ["openid", "restapi"])
    assert principal.may(permission)  # the client may act with it, for this grant
    assert not may_give_to_api_token(principal, permission)


def test_a_role_s_permissions_can_be_given_and_no_more() -> None:
    user = user_through_a_client(["user"], ["restapi"])
    admin = user_through_a_client(["admin"], ["restapi"])
    assert may_give_to_api_token(user, "tokens:read")
    assert not may_give_to_api_token(user, "deviceAuth:read")
    assert may_give_to_api_token(admin, "deviceAuth:read")
    assert not may_give_to_api_token(admin, "tokens:*")


def test_a_token_made_before_the_rule_cannot_pass_on_what_it_holds() -> None:
    # An API token minted with thermostats:update (before this rule) acts as its owner.
    old_token = Principal("ada", "user", frozenset({"tokens:create", "thermostats:update"}), "t")
    assert not may_give_to_api_token(old_token, "thermostats:update")


def test_hold_until_stays_hold_only(uow: MemoryUnitOfWork) -> None:
    # As in Manual, a holdUntil sent with Auto or Off has no meaning and is not checked.
    for mode in (Mode.AUTO, Mode.OFF, Mode.MANUAL):
        set_mode(uow, mode, hold_until=NOW - timedelta(days=1))
