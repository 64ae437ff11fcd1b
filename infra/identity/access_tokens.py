"""JWT access tokens (RFC 9068) signed with the provider's keys, and their validation.

Validation accepts only the asymmetric algorithms we sign with, looks the key up by
`kid` in our own JWKS, and insists on `typ: at+jwt`: a token with `alg: none`, an HMAC
made with our public key, or an id_token presented as an access token is refused.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey, RSAKey

from infra.identity.signing_keys import ALGORITHMS, SigningKeys

_VERIFIED_TOKENS_KEPT = 10_000


class InvalidAccessToken(Exception):
    pass


def acts_for_user(claims: dict[str, Any]) -> bool:
    """Whether validated claims speak for a user. A token minted for no user (the
    client_credentials grant) carries its client's id as subject (RFC 9068 §2.2, and `mint`)."""
    return str(claims["sub"]) != str(claims.get("client_id", ""))


@dataclass(frozen=True)
class MintedToken:
    token: str
    jti: str
    expires_in: int


class AccessTokens:
    def __init__(self, keys: SigningKeys, issuer: str, lifetime: int, clock_skew: int = 30) -> None:
        self._keys = keys
        self.issuer = issuer
        self.audience = f"{issuer}/resources"
        self.lifetime = lifetime
        self._clock_skew = clock_skew
        # Tokens whose signature and claims were verified, until they expire: a client
        # presents the same token for an hour, and a signature check is most of a
        # request's cost. Revocation is checked per request by the caller, not here.
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def mint(
        self,
        client_id: str,
        subject: str | None,
        scope: str,
        grant_id: str | None = None,
        auth_time: int | None = None,
        alg: str = "RS256",
    ) -> MintedToken:
        key = self._keys.signing_key(alg)
        now = int(time.time())
        jti = secrets.token_hex(16)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject or client_id,
            "client_id": client_id,
            "scope": scope,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "jti": jti,
        }
        if grant_id is not None:
            claims["sid"] = grant_id
        if auth_time is not None:
            claims["auth_time"] = auth_time
        token = jwt.encode(
            claims, key.private, algorithm=alg, headers={"kid": key.kid, "typ": "at+jwt"}
        )
        return MintedToken(token, jti, self.lifetime)

    def id_token_kid(self, alg: str = "RS256") -> str:
        return self._keys.signing_key(alg).kid

    def id_token_key(self, alg: str = "RS256") -> RSAKey | ECKey:
        """The current key in the form authlib's id_token encoder takes (joserfc)."""
        private = self._keys.signing_key(alg).private
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return RSAKey.import_key(pem) if alg == "RS256" else ECKey.import_key(pem)

    def id_token_hint(self, token: str) -> dict[str, Any]:
        """Claims of an id_token we issued; expired ones count (OIDC RP-Initiated Logout §2)."""
        try:
            header = jwt.get_unverified_header(token)
            found = self._keys.verification_key(str(header.get("kid", "")))
            if found is None or header.get("alg") not in ALGORITHMS or found[0] != header["alg"]:
                raise InvalidAccessToken("id_token_hint was not signed by this issuer")
            claims: dict[str, Any] = jwt.decode(
                token,
                found[1],
                algorithms=[found[0]],
                issuer=self.issuer,
                options={"verify_exp": False, "verify_aud": False, "require": ["sub", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidAccessToken(str(exc)) from exc
        return claims

    def validate(self, token: str) -> dict[str, Any]:
        with self._verified_lock:
            claims = self._verified.get(token)
            if claims is not None:
                self._verified.move_to_end(token)
        if claims is None:
            claims = self._verify(token)
            with self._verified_lock:
                self._verified[token] = claims
                while len(self._verified) > _VERIFIED_TOKENS_KEPT:
                    self._verified.popitem(last=False)
        elif time.time() > claims["exp"] + self._clock_skew:
            with self._verified_lock:
                self._verified.pop(token, None)
            raise InvalidAccessToken("Signature has expired")
        return dict(claims)

    def known(self, token: str) -> dict[str, Any] | None:
        """The claims of a token already verified and not expired, without verifying (cheap
        enough for the event loop); None when only `validate` can tell."""
        with self._verified_lock:
            claims = self._verified.get(token)
            if claims is not None:
                self._verified.move_to_end(token)
        if claims is None or time.time() > claims["exp"] + self._clock_skew:
            return None
        return dict(claims)

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidAccessToken("the token is not a JWT") from exc
        if header.get("alg") not in ALGORITHMS:
            raise InvalidAccessToken(f"tokens signed with {header.get('alg')!r} are not accepted")
        if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            raise InvalidAccessToken("not an access token (typ must be at+jwt)")
        found = self._keys.verification_key(str(header.get("kid", "")))
        if found is None:
            raise InvalidAccessToken("the token was not signed by a key of this issuer")
        alg, key = found
        if alg != header["alg"]:
            raise InvalidAccessToken("the token's algorithm does not match its key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
                leeway=self._clock_skew,
            )
        except jwt.PyJWTError as exc:
            raise InvalidAccessToken(str(exc)) from exc
        return claims
