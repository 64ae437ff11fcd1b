"""The provider's signing keys: created on first start, rotated on demand, published as a JWKS."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from domain.context import CommandContext
from domain.identity.commands import AddSigningKey
from domain.identity.signing_keys import KEY_RING_ID, SigningKeyRing
from infra.command_bus import CommandBus
from infra.identity.secret_box import SecretBox
from infra.store.aggregates import AggregateLoader

ALGORITHMS = ("RS256", "ES256")
RING_CACHE_SECONDS = 5.0
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_PURPOSE = "signing-key"
_SYSTEM = CommandContext(actor_id="identity", actor_kind="system")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private: PrivateKey
    public_jwk: dict[str, Any]


class SigningKeys:
    """Reads the key ring from the store on every use, so every node signs with the newest key."""

    def __init__(
        self, aggregates: AggregateLoader, bus: CommandBus, box: SecretBox, token_lifetime: int
    ) -> None:
        self._aggregates = aggregates
        self._bus = bus
        self._box = box
        self._token_lifetime = timedelta(seconds=token_lifetime)
        self._decrypted: dict[str, PrivateKey] = {}
        self._public: dict[str, Any] = {}
        self._ring_cache: tuple[float, SigningKeyRing | None] | None = None
        self._reloading = threading.Lock()

    def ensure(self) -> None:
        ring = self._ring()
        for alg in ALGORITHMS:
            if ring is None or ring.current(alg) is None:
                self.add(alg)

    def rotate(self) -> list[str]:
        """Add a new key per algorithm; the previous ones stay published while their tokens live."""
        return [self.add(alg) for alg in ALGORITHMS]

    def add(self, alg: str) -> str:
        self._ring_cache = None
        private = _generate(alg)
        kid = f"{alg.lower()}-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._bus.execute_now(
            AddSigningKey(
                kid=kid,
                alg=alg,
                public_jwk=_public_jwk(private, kid, alg),
                private_key_encrypted=self._box.seal(pem, _PURPOSE),
                added_at=datetime.now(UTC),
                context=_SYSTEM,
            )
        )
        return kid

    def signing_key(self, alg: str = "RS256") -> SigningKey:
        ring = self._ring()
        entry = ring.current(alg) if ring is not None else None
        if entry is None:
            raise LookupError(f"no {alg} signing key; run `hubline keys rotate`")
        return self._materialise(entry)

    def jwks(self) -> dict[str, Any]:
        """Every key still needed to verify a live token: the newest per algorithm, and
        older ones until a token lifetime has passed since they were replaced."""
        ring = self._ring()
        if ring is None:
            return {"keys": []}
        now = datetime.now(UTC)
        published: list[dict[str, Any]] = []
        for alg in ALGORITHMS:
            replaced_at: datetime | None = None  # when the next newer key took over
            for entry in (k for k in ring.keys if k["alg"] == alg):  # newest first
                if replaced_at is None or now - replaced_at < self._token_lifetime:
                    published.append(entry["public_jwk"])
                replaced_at = entry["added_at"]
        return {"keys": published}

    def verification_key(self, kid: str) -> tuple[str, Any] | None:
        for jwk in self.jwks()["keys"]:
            if jwk.get("kid") == kid:
                if kid not in self._public:
                    algorithm = RSAAlgorithm if jwk["kty"] == "RSA" else ECAlgorithm
                    self._public[kid] = algorithm.from_jwk(jwk)
                return str(jwk["alg"]), self._public[kid]
        return None

    def _materialise(self, entry: dict[str, Any]) -> SigningKey:
        kid = entry["kid"]
        if kid not in self._decrypted:
            pem = self._box.open(entry["private_key_encrypted"], _PURPOSE)
            loaded = serialization.load_pem_private_key(pem, password=None)
            assert isinstance(loaded, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey))
            self._decrypted[kid] = loaded
        return SigningKey(kid, entry["alg"], self._decrypted[kid], entry["public_jwk"])

    def _ring(self) -> SigningKeyRing | None:
        # Read from the store at most every few seconds: a rotation on another node is
        # seen that quickly, and each token check does not cost a store read.
        now = time.monotonic()
        cached = self._ring_cache
        if cached is not None and now - cached[0] < RING_CACHE_SECONDS:
            return cached[1]
        # One thread reloads; the others go on with the ring they have rather than queue.
        if not self._reloading.acquire(blocking=cached is None):
            assert cached is not None
            return cached[1]
        try:
            ring = self._load_ring()
            self._ring_cache = (time.monotonic(), ring)
            return ring
        finally:
            self._reloading.release()

    def _load_ring(self) -> SigningKeyRing | None:
        return self._aggregates.get(SigningKeyRing, KEY_RING_ID)


def _generate(alg: str) -> PrivateKey:
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unsupported signing algorithm {alg}")


def _public_jwk(private: PrivateKey, kid: str, alg: str) -> dict[str, Any]:
    if isinstance(private, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}
