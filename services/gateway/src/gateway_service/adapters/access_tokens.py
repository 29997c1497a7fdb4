"""HS256 user access tokens (JWT): short-lived, bound to a session id that is checked on every request."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt

from gateway_service.domain.errors import InvalidAccessTokenError
from gateway_service.domain.sessions import AccessClaims

ACCESS_TOKEN_ISSUER = "gigstack-gateway"  # noqa: S105  # a claim value, not a secret
# Distinguishes user access tokens from any other JWT signed with the same key family.
ACCESS_TOKEN_TYPE = "access"  # noqa: S105
_ALGORITHM = "HS256"
DEFAULT_LEEWAY_SECONDS = 30
# Verified tokens remembered (ADR 0024): a client sends the same token with every request for its 15 minutes,
# and checking the HMAC and the claims again each time was ~5 % of the gateway's CPU per request.
VERIFIED_MEMORY_ENTRIES = 20_000


class Hs256AccessTokenCodec:
    # Clocks of gateway replicas and clients drift; without leeway a token minted by one replica can be "not
    # yet valid" (iat) or expired a second early on another: spurious 401s. 30 s is small next to 15 min.
    def __init__(
        self,
        secret: str,
        *,
        ttl_seconds: int,
        leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret.encode()) < 32:
            raise ValueError("ACCESS_TOKEN_SECRET must be at least 32 bytes")
        self._secret = secret
        self._ttl_seconds = ttl_seconds
        self._leeway_seconds = leeway_seconds
        self._clock = clock
        # token -> (claims, moment until which they may be served without verifying again)
        self._verified: OrderedDict[str, tuple[AccessClaims, float]] = OrderedDict()

    def issue(self, *, user_id: str, session_id: str, email_verified: bool = False) -> tuple[str, int]:
        now = datetime.now(UTC)
        claims = {
            "iss": ACCESS_TOKEN_ISSUER,
            "typ": ACCESS_TOKEN_TYPE,
            "sub": user_id,
            "sid": session_id,
            "iat": now,
            "exp": now + timedelta(seconds=self._ttl_seconds),
            "jti": uuid.uuid4().hex,
            "email_verified": email_verified,
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM), self._ttl_seconds

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token; a token verified before is served from memory until it expires.

        The same string carries the same signature and claims, so remembering a verified token changes no
        verdict; a remembered token is dropped (and verified again, which then fails) once past its expiry.
        """
        remembered = self._verified.get(token)
        if remembered is not None:
            claims, valid_until = remembered
            if self._clock() < valid_until:
                return claims
            del self._verified[token]
        claims = self._verify(token)
        self._verified[token] = (claims, claims.expires_at.timestamp() + self._leeway_seconds)
        while len(self._verified) > VERIFIED_MEMORY_ENTRIES:
            self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=ACCESS_TOKEN_ISSUER,
                leeway=self._leeway_seconds,
                options={"require": ["exp", "iat", "sub", "sid", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidAccessTokenError(str(exc)) from exc
        if claims.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidAccessTokenError("not an access token")
        return AccessClaims(
            user_id=str(claims["sub"]),
            session_id=str(claims["sid"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            email_verified=claims.get("email_verified") is True,
        )
