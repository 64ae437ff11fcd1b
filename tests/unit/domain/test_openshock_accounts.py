"""OpenShock accounts on Hubline's users, pure: usernames, password rules, login sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.context import CommandContext
from domain.errors import DomainError, NotFound
from domain.identity.commands import (
    ChangeUsername,
    RegisterUser,
    RevokeLoginSession,
    StartLoginSession,
    TouchLoginSession,
)
from domain.identity.handlers import HANDLERS
from domain.identity.login_sessions import SessionNotFound
from domain.identity.password_policy import HUBLINE_PASSWORDS, OPENSHOCK_PASSWORDS
from domain.identity.token_grant import (
    LOGIN_SESSION_LIFETIME,
    SESSION_TOUCH_INTERVAL,
    TokenGrant,
    login_session_id,
)
from domain.identity.user import User, user_id
from domain.identity.username import (
    Username,
    UsernameInvalid,
    UsernameOrEmailExists,
    UsernameRecentlyChanged,
    UsernameTaken,
    folded_username,
    username_id,
    username_problem,
)
from tests.unit.fakes import MemoryUnitOfWork

CLI = CommandContext(actor_id="cli", actor_kind="cli")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def signup(uow: MemoryUnitOfWork, email: str, username: str | None) -> str:
    return str(
        uow.run(
            RegisterUser(
                email=email,
                name=username or "someone",
                password_hash="h",
                username=username,
                context=CLI,
            )
        )
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "TooShort"),
        ("a" * 33, "TooLong"),
        (" Ada", "StartOrEndWithWhitespace"),
        ("Ada\t", "StartOrEndWithWhitespace"),
        ("ada@example.com", "ResembleEmail"),
        ("Ada😀", "ObnoxiousCharacters"),
        ("Ad\u200da", "ObnoxiousCharacters"),  # zero-width joiner
        ("Ad\u202ea", "ObnoxiousCharacters"),  # right-to-left override
        ("Zalgo\u0301", "ObnoxiousCharacters"),  # a combining mark
        ("tab\tin", "ObnoxiousCharacters"),
    ],
)
def test_usernames_follow_openshocks_rules(name: str, reason: str) -> None:
    problem = username_problem(name)
    assert problem is not None and problem.reason == reason
    assert problem.code == "Account.Username.Invalid"


def test_valid_usernames_pass_and_are_measured_in_utf16_units() -> None:
    for name in ("Ada", "a" * 32, "TestUser123", "Ådne Ø", "名前です", "with space"):
        assert username_problem(name) is None, name
    # 𐐷 (U+10437) is two UTF-16 units in .NET's Length: 16 of them are 32 units.
    assert username_problem("\U00010437" * 16) is None
    assert username_problem("\U00010437" * 17) is not None


def test_names_compare_regardless_of_case_but_not_of_accents() -> None:
    assert username_id("Ada") == username_id("ADA") == username_id("ada")
    assert folded_username("Straße") == folded_username("STRASSE")
    assert username_id("Ada") != username_id("Adá")


def test_a_signup_claims_its_username_and_a_second_one_in_any_case_is_refused() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    subject = signup(uow, "ada@example.com", "Ada")
    user = uow.get(User, user_id("ada@example.com"))
    assert user is not None and user.username == "Ada"
    claim = uow.get(Username, username_id("ada"))
    assert claim is not None and claim.holder == subject
    with pytest.raises(UsernameOrEmailExists, match="taken"):
        signup(uow, "other@example.com", "ADA")
    assert uow.get(User, user_id("other@example.com")) is None
    with pytest.raises(UsernameOrEmailExists, match="already exists") as refused:
        signup(uow, "ada@example.com", "Someone")
    assert refused.value.code == "Signup.UsernameOrEmailExists"
    assert uow.get(Username, username_id("Someone")) is None


def test_users_without_a_username_keep_working_as_before() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    signup(uow, "plain@example.com", None)
    user = uow.get(User, user_id("plain@example.com"))
    assert user is not None and user.username is None
    with pytest.raises(DomainError, match="already exists") as refused:
        signup(uow, "plain@example.com", None)
    assert not isinstance(refused.value, UsernameOrEmailExists)


def test_an_invalid_username_is_refused_before_anything_is_recorded() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    with pytest.raises(UsernameInvalid):
        signup(uow, "ada@example.com", "a@b")
    assert uow.aggregates == {}


def test_a_rename_frees_the_old_name_and_waits_seven_days_for_the_next() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    ada = signup(uow, "ada@example.com", "Ada")
    bob = signup(uow, "bob@example.com", "Bob")
    uow.run(ChangeUsername(subject=ada, username="Countess", at=NOW, context=CLI))
    user = uow.get(User, user_id("ada@example.com"))
    assert user is not None and user.username == "Countess"
    # The old name is free at once: Bob takes it.
    uow.run(ChangeUsername(subject=bob, username="ada", at=NOW, context=CLI))
    claim = uow.get(Username, username_id("Ada"))
    assert claim is not None and claim.holder == bob and claim.username == "ada"
    with pytest.raises(UsernameRecentlyChanged):
        uow.run(ChangeUsername(subject=ada, username="Lovelace", at=NOW, context=CLI))
    uow.run(
        ChangeUsername(subject=ada, username="Lovelace", at=NOW, ignore_cooldown=True, context=CLI)
    )
    later = NOW + timedelta(days=7)
    with pytest.raises(UsernameTaken) as taken:
        uow.run(ChangeUsername(subject=ada, username="ADA", at=later, context=CLI))
    assert taken.value.code == "Account.Username.Taken"


def test_a_rename_to_the_same_name_changes_nothing_and_a_new_case_is_kept() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    ada = signup(uow, "ada@example.com", "Ada")
    user = uow.get(User, user_id("ada@example.com"))
    assert user is not None
    version = user.version
    uow.run(ChangeUsername(subject=ada, username="Ada", at=NOW, context=CLI))
    assert user.version == version
    uow.run(ChangeUsername(subject=ada, username="ADA", at=NOW, context=CLI))
    claim = uow.get(Username, username_id("ada"))
    assert user.username == "ADA" and claim is not None and claim.holder == ada


def test_a_user_without_a_username_may_choose_one() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    subject = signup(uow, "plain@example.com", None)
    uow.run(ChangeUsername(subject=subject, username="Plain", at=NOW, context=CLI))
    user = uow.get(User, user_id("plain@example.com"))
    assert user is not None and user.username == "Plain"
    with pytest.raises(NotFound):
        uow.run(ChangeUsername(subject=str(user_id("x@y.z")), username="X1x", at=NOW, context=CLI))


def test_password_policies_differ_by_surface() -> None:
    assert OPENSHOCK_PASSWORDS.problem("short-but-ok") is None  # 12 characters
    assert "at least 12" in (OPENSHOCK_PASSWORDS.problem("elevenchars") or "")
    assert "at most 256" in (OPENSHOCK_PASSWORDS.problem("x" * 257) or "")
    assert OPENSHOCK_PASSWORDS.problem("x" * 256) is None
    assert "whitespace" in (OPENSHOCK_PASSWORDS.problem(" twelve chars") or "")
    # Hubline's own rules are unchanged: 8..1024, spaces allowed.
    assert HUBLINE_PASSWORDS.problem(" eightch") is None
    assert HUBLINE_PASSWORDS.problem("x" * 1024) is None
    assert HUBLINE_PASSWORDS.problem("seven77") is not None


def start_session(uow: MemoryUnitOfWork, subject: str, at: datetime = NOW) -> UUID:
    grant_id = uow.run(
        StartLoginSession(
            session_hash="hash-1",
            subject=subject,
            user_agent="Mozilla/5.0 " + "x" * 400,
            address="192.0.2.7",
            at=at,
            context=CLI,
        )
    )
    assert isinstance(grant_id, UUID)
    return grant_id


def test_a_login_session_is_a_grant_keyed_by_its_token_hash() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    subject = signup(uow, "ada@example.com", "Ada")
    grant_id = start_session(uow, subject)
    assert grant_id == login_session_id("hash-1")
    grant = uow.get(TokenGrant, grant_id)
    assert grant is not None and grant.is_session and grant.subject == subject
    assert grant.address == "192.0.2.7" and grant.user_agent is not None
    assert len(grant.user_agent) == 256
    assert grant.expires_at == NOW + LOGIN_SESSION_LIFETIME
    assert grant.session_live_at(NOW) and not grant.refresh_usable_at(NOW)
    assert grant.access_token_ids == []
    with pytest.raises(NotFound):
        start_session(uow, str(user_id("nobody@example.com")))


def test_a_session_slides_with_use_at_most_once_per_interval() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    grant_id = start_session(uow, signup(uow, "ada@example.com", "Ada"))
    grant = uow.get(TokenGrant, grant_id)
    assert grant is not None
    # Created "now" by the event clock; the session is judged at the times the commands say.
    grant.last_used_at = NOW
    soon = NOW + SESSION_TOUCH_INTERVAL / 2
    assert uow.run(TouchLoginSession(grant_id=grant_id, at=soon, context=CLI)) == (
        NOW + LOGIN_SESSION_LIFETIME
    )
    later = NOW + timedelta(days=20)
    assert uow.run(TouchLoginSession(grant_id=grant_id, at=later, context=CLI)) == (
        later + LOGIN_SESSION_LIFETIME
    )
    assert grant.last_used_at == later
    # Past its expiry a session stays dead: a use does not revive it.
    dead = later + LOGIN_SESSION_LIFETIME
    assert uow.run(TouchLoginSession(grant_id=grant_id, at=dead, context=CLI)) is None
    assert grant.expires_at == dead


def test_a_session_is_revoked_only_by_its_user_or_the_operator() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    ada = signup(uow, "ada@example.com", "Ada")
    bob = signup(uow, "bob@example.com", "Bob")
    grant_id = start_session(uow, ada)
    with pytest.raises(SessionNotFound) as refused:
        uow.run(RevokeLoginSession(grant_id=grant_id, subject=bob, context=CLI))
    assert refused.value.code == "Session.NotFound"
    uow.run(RevokeLoginSession(grant_id=grant_id, subject=ada, context=CLI))
    grant = uow.get(TokenGrant, grant_id)
    assert grant is not None and grant.revoked and not grant.session_live_at(NOW)
    assert uow.run(TouchLoginSession(grant_id=grant_id, at=NOW, context=CLI)) is None
    # Revoking again is harmless; an OAuth grant is no session.
    uow.run(RevokeLoginSession(grant_id=grant_id, context=CLI))
    with pytest.raises(SessionNotFound):
        uow.run(RevokeLoginSession(grant_id=login_session_id("other"), context=CLI))
