"""OpenShock accounts: signup, login (the openShockSession cookie), logout, username and
password, and who a user is (/1/users). Accounts are Hubline users with a username."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.

import contextlib
import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from api.openshock import accounts, schemas
from api.openshock.auth import OpenShockAuth, context
from api.openshock.bodies import Fields, json_body
from api.openshock.errors import OpenShockProblem, endpoint_retired
from api.openshock.responses import empty_ok, legacy, raw
from domain.errors import DomainError
from domain.identity.commands import (
    ChangeUsername,
    RecordLogin,
    RegisterUser,
    RevokeLoginSession,
    StartLoginSession,
    UpdateAccount,
)
from domain.identity.password_policy import OPENSHOCK_PASSWORDS
from domain.identity.user import User
from domain.identity.username import username_problem
from domain.openshock.values import Caller
from infra.command_bus import CommandBus
from infra.identity.login_sessions import mint_session_token, session_id_of
from infra.identity.passwords import hash_password, verify_password
from infra.openshock.presented_credentials import session_token_of
from infra.store.natural_keys import NaturalKeys

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254  # what Hubline's users take (OpenShock allows 320)
MAX_TURNSTILE_LENGTH = 2048
_OPENSHOCK_CLIENT = "openshock"

_SIGNUP = schemas.obj(
    ["username", "password", "email"],
    username={"type": "string", "minLength": 3, "maxLength": 32},
    password={"type": "string", "minLength": 12, "maxLength": 256},
    email={"type": "string", "format": "email", "maxLength": MAX_EMAIL_LENGTH},
    turnstileResponse={"type": "string"},
)
_LOGIN = schemas.obj(
    ["usernameOrEmail", "password"],
    usernameOrEmail={"type": "string", "minLength": 1},
    password={"type": "string", "minLength": 1},
    turnstileResponse={"type": "string"},
)
_USERNAME = schemas.obj(["username"], username={"type": "string"})
_PASSWORD_CHANGE = schemas.obj(
    ["currentPassword", "newPassword"],
    currentPassword={"type": "string", "minLength": 1},
    newPassword={"type": "string", "minLength": 12, "maxLength": 256},
)


def _invalid_credentials() -> OpenShockProblem:
    return OpenShockProblem("Login.InvalidCredentials", "Invalid username or password", 401)


def _turnstile(fields: Fields) -> None:
    # Turnstile is off (no captcha service): the field is taken, absent or empty, and ignored.
    value = fields.optional_text("turnstileResponse")
    if value is not None and len(value) > MAX_TURNSTILE_LENGTH:
        fields.fail("turnstileResponse", f"must be at most {MAX_TURNSTILE_LENGTH} characters")


def _user_not_found() -> OpenShockProblem:
    return OpenShockProblem("User.NotFound", "User not found", 404)


def account_router(
    bus: CommandBus, natural_keys: NaturalKeys, auth: OpenShockAuth, secure_cookie: bool
) -> APIRouter:
    router = APIRouter(tags=["OpenShock: account"])
    AnyCaller = Annotated[Caller, Depends(auth.caller)]
    SessionCaller = Annotated[Caller, Depends(auth.cookie_caller)]

    async def user_of(caller: Caller) -> User:
        user = await run_in_threadpool(natural_keys.user_by_subject, str(caller.user_id))
        if user is None:  # a token or session outliving its user
            raise OpenShockProblem("Authentication.SessionInvalid", "The session is invalid", 401)
        return user

    @router.post(
        "/2/account/signup",
        summary="Create an account (activated at once: no mail service)",
        openapi_extra=schemas.body(_SIGNUP),
    )
    async def signup(request: Request) -> Response:
        fields = Fields(await json_body(request))
        username = fields.text("username")
        password = fields.text("password")
        email = fields.text("email").strip()
        _turnstile(fields)
        if isinstance(username, str) and (problem := username_problem(username)) is not None:
            fields.fail("username", str(problem))
        if (why := OPENSHOCK_PASSWORDS.problem(password)) is not None:
            fields.fail("password", why)
        if not _EMAIL.match(email) or len(email) > MAX_EMAIL_LENGTH:
            fields.fail("email", "must be an e-mail address")
        fields.check()
        password_hash = await run_in_threadpool(hash_password, password, OPENSHOCK_PASSWORDS)
        await bus.execute(
            RegisterUser(
                email=email,
                name=username,
                password_hash=password_hash,
                username=username,
                context=context(request),
            )
        )
        return empty_ok()

    @router.post(
        "/2/account/login",
        summary="Log in: sets the openShockSession cookie (30 days, sliding)",
        openapi_extra=schemas.body(_LOGIN),
    )
    async def login(request: Request) -> Response:
        fields = Fields(await json_body(request))
        login_name = fields.text("usernameOrEmail")
        password = fields.text("password")
        _turnstile(fields)
        if login_name == "":
            fields.fail("usernameOrEmail", "is required")
        if password == "":
            fields.fail("password", "is required")
        fields.check()
        now = datetime.now(UTC)
        user, matched = await run_in_threadpool(_check_password, natural_keys, login_name, password)
        ctx = context(request)
        locked = user is not None and user.is_locked(now)
        if user is not None:
            # Every attempt on an account is recorded; repeated failures lock it for a while.
            await bus.execute(
                RecordLogin(
                    email=user.email,
                    succeeded=matched and not locked,
                    at=now,
                    client_id=_OPENSHOCK_CLIENT,
                    reason="locked out" if locked else "" if matched else "wrong password",
                    context=ctx,
                )
            )
        if user is None or not matched or locked:
            raise _invalid_credentials()
        token, token_hash = mint_session_token()
        await bus.execute(
            StartLoginSession(
                session_hash=token_hash,
                subject=user.subject,
                user_agent=request.headers.get("user-agent", ""),
                address=ctx.source_address or "",
                at=now,
                context=ctx,
            )
        )
        response = raw(accounts.login_view(user))
        accounts.set_session_cookie(response, token, secure_cookie)
        return response

    @router.post("/1/account/login", summary="Retired: use POST /2/account/login")
    async def login_v1() -> Response:
        raise endpoint_retired("POST /2/account/login")

    @router.post("/1/account/logout", summary="End this session; always 200")
    async def logout(request: Request) -> Response:
        token = session_token_of(request)
        if token:
            # No such session: logging out is idempotent.
            with contextlib.suppress(DomainError):
                await bus.execute(
                    RevokeLoginSession(
                        grant_id=session_id_of(token), reason="logout", context=context(request)
                    )
                )
        response = empty_ok()
        accounts.clear_session_cookie(response, secure_cookie)
        return response

    @router.post(
        "/1/account/username/check",
        summary="Whether a username is available",
        openapi_extra=schemas.body(_USERNAME),
    )
    async def check_username(request: Request) -> Response:
        fields = Fields(await json_body(request))
        username = fields.text("username")
        fields.check()
        problem = username_problem(username)
        if problem is not None:
            return raw(
                {
                    "availability": "Invalid",
                    "error": {"type": problem.reason, "message": str(problem)},
                }
            )
        holder = await run_in_threadpool(natural_keys.user_by_username, username)
        return raw({"availability": "Taken" if holder else "Available", "error": None})

    @router.post(
        "/1/account/username",
        summary="Change my username (once every 7 days)",
        openapi_extra=schemas.body(_USERNAME),
    )
    async def change_username(request: Request, caller: SessionCaller) -> Response:
        fields = Fields(await json_body(request))
        username = fields.text("username")
        fields.check()
        user = await user_of(caller)
        await bus.execute(
            ChangeUsername(
                subject=user.subject,
                username=username,
                at=datetime.now(UTC),
                ignore_cooldown="admin" in user.roles,
                context=context(request),
            )
        )
        return empty_ok()

    @router.post(
        "/1/account/password",
        summary="Change my password",
        openapi_extra=schemas.body(_PASSWORD_CHANGE),
    )
    async def change_password(request: Request, caller: SessionCaller) -> Response:
        fields = Fields(await json_body(request))
        current = fields.text("currentPassword")
        new = fields.text("newPassword")
        if (why := OPENSHOCK_PASSWORDS.problem(new)) is not None:
            fields.fail("newPassword", why)
        fields.check()
        user = await user_of(caller)
        if not user.password_hash:
            raise OpenShockProblem(
                "Account.Password.NotSet", "This account has no password set.", 409
            )
        if not await run_in_threadpool(verify_password, user.password_hash, current):
            raise OpenShockProblem(
                "Account.Password.OldPasswordInvalid", "The old password is invalid", 403
            )
        password_hash = await run_in_threadpool(hash_password, new, OPENSHOCK_PASSWORDS)
        await bus.execute(
            UpdateAccount(
                subject=user.subject, password_hash=password_hash, context=context(request)
            )
        )
        return empty_ok()

    @router.get("/1/users/self", summary="Who I am")
    async def users_self(caller: AnyCaller) -> Response:
        return legacy(accounts.self_view(await user_of(caller)))

    @router.get("/1/users/by-name/{username}", summary="A user by username")
    async def user_by_name(username: str, caller: AnyCaller) -> Response:
        user = await run_in_threadpool(natural_keys.user_by_username, username)
        if user is None:
            raise _user_not_found()
        return raw(accounts.basic_view(user))

    return router


def _check_password(
    natural_keys: NaturalKeys, login_name: str, password: str
) -> tuple[User | None, bool]:
    """The account named, and whether this is its password; a miss costs what a hit costs."""
    user = natural_keys.user_by_login(login_name) if len(login_name) <= MAX_EMAIL_LENGTH else None
    matched = verify_password(user.password_hash if user is not None else None, password)
    return user, matched and user is not None
