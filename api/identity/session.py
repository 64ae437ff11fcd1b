"""The login session at the provider: a signed cookie, and the CSRF token its forms carry."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

import jwt
from fastapi import Request, Response

SESSION_COOKIE = "hubline.session"
CSRF_COOKIE = "hubline.csrf"
SESSION_LIFETIME = 8 * 3600


@dataclass(frozen=True)
class Session:
    subject: str
    auth_time: int


class Sessions:
    def __init__(self, key: bytes, secure: bool) -> None:
        self._key = key
        self._secure = secure

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw or len(raw) > 2048:
            return None
        try:
            claims = jwt.decode(raw, self._key, algorithms=["HS256"], options={"require": ["exp"]})
        except jwt.PyJWTError:
            return None
        return Session(str(claims["sub"]), int(claims["auth_time"]))

    def start(self, response: Response, subject: str) -> Session:
        now = int(time.time())
        cookie = jwt.encode(
            {"sub": subject, "auth_time": now, "exp": now + SESSION_LIFETIME}, self._key, "HS256"
        )
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=SESSION_LIFETIME,
            httponly=True,
            secure=self._secure,
            samesite="lax",
            path="/",
        )
        return Session(subject, now)

    def end(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")

    def csrf_token(self, request: Request, response: Response) -> str:
        """Double-submit: the form's hidden field must equal the cookie set with it."""
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, secure=self._secure, samesite="strict", path="/"
        )
        return token

    @staticmethod
    def csrf_valid(request: Request, submitted: str | None) -> bool:
        expected = request.cookies.get(CSRF_COOKIE)
        return bool(expected and submitted) and hmac.compare_digest(expected or "", submitted or "")
