"""SessionService: start, refresh (rotate with reuse detection), authenticate and end sessions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NoReturn

from gateway_service.domain.errors import (
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionRevokedError,
)
from gateway_service.domain.sessions import (
    AccessClaims,
    IssuedTokens,
    RefreshTokenRecord,
    RefreshTokenStatus,
    RefreshVerdict,
    Session,
    hash_refresh_token,
    judge_refresh,
    new_refresh_token,
    new_session_id,
)
from gateway_service.service_layer.ports import AccessTokenCodec, RemembersLiveness, SessionStore

logger = logging.getLogger(__name__)

# A session ends this long after sign-in however often it is refreshed (docs/security.md).
DEFAULT_SESSION_LIFETIME_SECONDS = 30 * 24 * 3600


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SessionService:
    def __init__(
        self,
        store: SessionStore,
        access_tokens: AccessTokenCodec,
        *,
        refresh_ttl_seconds: int,
        session_lifetime_seconds: int = DEFAULT_SESSION_LIFETIME_SECONDS,
        refresh_reuse_grace_seconds: float = 0.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._store = store
        self._memory = store if isinstance(store, RemembersLiveness) else None
        self._access_tokens = access_tokens
        self._refresh_ttl_seconds = refresh_ttl_seconds
        self._session_lifetime_seconds = session_lifetime_seconds
        self._reuse_grace_seconds = refresh_reuse_grace_seconds
        self._clock = clock

    async def start(
        self, *, user_id: str, device_id: str | None, email_verified: bool = False
    ) -> IssuedTokens:
        now = self._clock()
        session = Session(
            session_id=new_session_id(),
            user_id=user_id,
            device_id=device_id,
            created_at=now,
            email_verified=email_verified,
        )
        refresh_token = new_refresh_token()
        record = RefreshTokenRecord(
            token_hash=hash_refresh_token(refresh_token),
            session_id=session.session_id,
            user_id=user_id,
            status=RefreshTokenStatus.ACTIVE,
            issued_at=now,
        )
        await self._store.create(
            session, record, self._refresh_ttl_seconds, lifetime_seconds=self._session_lifetime_seconds
        )
        return self._issue(session.session_id, user_id, refresh_token, email_verified=email_verified)

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        token_hash = hash_refresh_token(refresh_token)
        record = await self._store.get_refresh(token_hash)
        session = None if record is None else await self._store.get_session(record.session_id)
        session_live = session is not None
        now = self._clock()
        verdict = judge_refresh(
            record, session_live=session_live, now=now, reuse_grace_seconds=self._reuse_grace_seconds
        )
        if verdict in (RefreshVerdict.UNKNOWN, RefreshVerdict.SESSION_ENDED):
            raise InvalidRefreshTokenError("refresh token is not valid")
        assert record is not None  # judge_refresh returns UNKNOWN for a missing record
        if verdict is RefreshVerdict.REUSED:
            await self._revoke_for_reuse(record.session_id)
        new_token = new_refresh_token()
        new_record = RefreshTokenRecord(
            token_hash=hash_refresh_token(new_token),
            session_id=record.session_id,
            user_id=record.user_id,
            status=RefreshTokenStatus.ACTIVE,
            issued_at=now,
        )
        rotated = await self._store.rotate(
            token_hash, new_record, self._refresh_ttl_seconds, reuse_grace_seconds=self._reuse_grace_seconds
        )
        if not rotated:
            # Someone else rotated (or revoked) this token between our read and our write: the same
            # token was used twice, which is exactly the reuse the family rule exists for.
            await self._revoke_for_reuse(record.session_id)
        # The session's state, not the token's: a refreshed access token says what the session says.
        email_verified = session.email_verified if session is not None else False
        return self._issue(record.session_id, record.user_id, new_token, email_verified=email_verified)

    async def authenticate(self, access_token: str) -> AccessClaims:
        claims = self.verify_access_token(access_token)
        await self.ensure_live(claims)
        return claims

    def verify_access_token(self, access_token: str) -> AccessClaims:
        """Signature, expiry and shape only (no I/O); ``ensure_live`` completes the check."""
        return self._access_tokens.verify(access_token)

    def known_live(self, claims: AccessClaims) -> bool:
        """True when the store already knows, without I/O, that the session is live: `ensure_live` would pass.

        False says nothing (not remembered, or no memory): ask `ensure_live`.
        """
        return self._memory is not None and self._memory.remembers_live(claims.session_id)

    async def ensure_live(self, claims: AccessClaims) -> None:
        # Checked on every request so signout and revocation take effect before the token expires.
        if not await self._store.is_live(claims.session_id):
            raise self.ended()

    @staticmethod
    def ended() -> SessionRevokedError:
        """The verdict on a session that is not live (`ensure_live`'s, for a liveness learnt elsewhere)."""
        return SessionRevokedError("session has ended")

    async def end(self, session_id: str) -> None:
        await self._store.revoke(session_id)

    async def end_every_session(self, user_id: str) -> int:
        """After a password reset or change: whoever held a session (perhaps with the old password, perhaps
        an attacker who registered the address first) loses it now, the caller's own session included."""
        return await self._store.revoke_user_sessions(user_id)

    async def _revoke_for_reuse(self, session_id: str) -> NoReturn:
        await self._store.revoke(session_id)
        logger.warning(
            "refresh token reuse detected; session family revoked", extra={"session_id": session_id}
        )
        raise RefreshTokenReusedError(session_id)

    def _issue(
        self, session_id: str, user_id: str, refresh_token: str, *, email_verified: bool
    ) -> IssuedTokens:
        access_token, expires_in = self._access_tokens.issue(
            user_id=user_id, session_id=session_id, email_verified=email_verified
        )
        return IssuedTokens(
            session_id=session_id,
            user_id=user_id,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=expires_in,
        )
