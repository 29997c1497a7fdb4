"""Short-lived EdDSA (Ed25519) JWTs the gateway issues for each call to an internal service.

Only the gateway holds the private key; services hold the public key, so a compromised service cannot mint
tokens for another. Verification pins the algorithm to EdDSA and the key type to Ed25519, which rules out the
classic confusions (`alg: none`, HS256 signed with the public key as the HMAC secret).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from servicekit.errors import Unauthorized

__all__ = [
    "INTERNAL_TOKEN_ALGORITHM",
    "MAX_INTERNAL_TOKEN_TTL_SECONDS",
    "InternalPrincipal",
    "InternalTokenIssuer",
    "InternalTokenVerifier",
    "generate_ed25519_keypair",
]

logger = logging.getLogger(__name__)

INTERNAL_TOKEN_ALGORITHM = "EdDSA"  # noqa: S105 - an algorithm name, not a credential
MAX_INTERNAL_TOKEN_TTL_SECONDS = 60
DEFAULT_ISSUER = "gateway"
_REQUIRED_CLAIMS = ("iss", "aud", "iat", "exp", "jti")
_RESERVED_CLAIMS = frozenset({"iss", "aud", "iat", "exp", "nbf", "jti", "sub", "sid"})
# One message for every failure: telling a caller *why* its token was refused only helps an attacker.
INVALID_TOKEN_MESSAGE = "Missing or invalid internal token"  # noqa: S105 - an error message


@dataclass(frozen=True)
class InternalPrincipal:
    """Who the gateway says is calling: the user (absent for anonymous calls), their session, all claims."""

    subject: str | None
    session_id: str | None
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def email_verified(self) -> bool:
        return self.claims.get("email_verified") is True


def generate_ed25519_keypair() -> tuple[str, str]:
    """A new (private PEM, public PEM) pair, for dev scripts and tests."""
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def _load_private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the internal token private key must be an Ed25519 key")
    return key


def _load_public_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the internal token public key must be an Ed25519 key")
    return key


_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)


def load_public_keys(pem_bundle: str) -> list[Ed25519PublicKey]:
    """Every Ed25519 public key in ``pem_bundle`` (one PEM block or several concatenated).

    Several keys are how a key is rotated without downtime: verifiers accept the old and the new key while the
    gateway switches to the new private key (docs/security.md, key rotation).
    """
    blocks = _PEM_BLOCK.findall(pem_bundle)
    if not blocks:
        return [_load_public_key(pem_bundle)]
    return [_load_public_key(block) for block in blocks]


class InternalTokenIssuer:
    """Mints internal tokens (gateway only)."""

    def __init__(self, private_key_pem: str, *, issuer: str = DEFAULT_ISSUER, ttl_seconds: int = 30) -> None:
        if not 0 < ttl_seconds <= MAX_INTERNAL_TOKEN_TTL_SECONDS:
            raise ValueError(f"ttl_seconds must be in (0, {MAX_INTERNAL_TOKEN_TTL_SECONDS}]")
        self._private_key = _load_private_key(private_key_pem)
        self._issuer = issuer
        self._ttl_seconds = ttl_seconds
        # The protected header is the same for every token: PyJWT's own encoding of it, taken once, so the
        # tokens stay byte for byte what `jwt.encode` would produce (tests/security pins that).
        self._signing_prefix = (
            jwt.encode({}, self._private_key, algorithm=INTERNAL_TOKEN_ALGORITHM)
            .split(".", 1)[0]
            .encode("ascii")
            + b"."
        )

    def issue(
        self,
        audience: str,
        *,
        subject: str | None = None,
        session_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        clashing = _RESERVED_CLAIMS.intersection(extra or {})
        if clashing:
            raise ValueError(f"extra claims may not set registered claims: {sorted(clashing)}")
        now = int(time.time())
        claims: dict[str, Any] = {
            **(extra or {}),
            "iss": self._issuer,
            "aud": audience,
            "iat": now,
            "exp": now + self._ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        if subject is not None:
            claims["sub"] = subject
        if session_id is not None:
            claims["sid"] = session_id
        return self._sign(claims)

    def _sign(self, claims: dict[str, Any]) -> str:
        """The JWS compact serialization `jwt.encode(claims, key, algorithm="EdDSA")` produces, without its
        generic path (header built, sorted and encoded, algorithm looked up and key re-checked per call).

        The gateway mints one token per downstream call; the Ed25519 signature itself is the same call
        PyJWT makes (the key object was loaded once), and every token keeps its own `jti` and `iat`.
        """
        payload = json.dumps(claims, separators=(",", ":")).encode("utf-8")
        signing_input = self._signing_prefix + _base64url(payload)
        return (signing_input + b"." + _base64url(self._private_key.sign(signing_input))).decode("ascii")


def _base64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


class InternalTokenVerifier:
    """Checks internal tokens addressed to one service; every failure is the same `Unauthorized`."""

    def __init__(
        self,
        public_key_pem: str,
        *,
        audience: str,
        issuer: str = DEFAULT_ISSUER,
        leeway_seconds: int = 5,
    ) -> None:
        self._public_keys = load_public_keys(public_key_pem)
        self._audience = audience
        self._issuer = issuer
        self._leeway_seconds = leeway_seconds

    def verify(self, token: str) -> InternalPrincipal:
        claims = self._decode_with_any_key(token)
        # A leaked token must stay useful for seconds only, whoever minted it.
        lifetime = claims["exp"] - claims["iat"]
        if not isinstance(lifetime, int | float) or lifetime > MAX_INTERNAL_TOKEN_TTL_SECONDS:
            logger.info("internal token refused", extra={"reason": "LifetimeTooLong"})
            raise Unauthorized(INVALID_TOKEN_MESSAGE)
        subject = claims.get("sub")
        session_id = claims.get("sid")
        return self._principal(claims, subject, session_id)

    def _decode_with_any_key(self, token: str) -> dict[str, Any]:
        error: jwt.PyJWTError | None = None
        for key in self._public_keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=[INTERNAL_TOKEN_ALGORITHM],
                    audience=self._audience,
                    issuer=self._issuer,
                    leeway=self._leeway_seconds,
                    options={"require": list(_REQUIRED_CLAIMS), "strict_aud": True},
                )
                return claims
            except jwt.PyJWTError as failure:
                error = failure
        logger.info("internal token refused", extra={"reason": type(error).__name__})
        raise Unauthorized(INVALID_TOKEN_MESSAGE) from None

    @staticmethod
    def _principal(claims: dict[str, Any], subject: Any, session_id: Any) -> InternalPrincipal:
        return InternalPrincipal(
            subject=str(subject) if subject is not None else None,
            session_id=str(session_id) if session_id is not None else None,
            claims=claims,
        )
