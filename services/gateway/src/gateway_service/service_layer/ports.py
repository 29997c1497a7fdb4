"""Ports the gateway's use cases need; Redis-backed adapters implement them, unit tests fake them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from gateway_service.domain.rate_limits import RateDecision, RateRule
from gateway_service.domain.sessions import AccessClaims, RefreshTokenRecord, Session


class SessionStore(Protocol):
    async def create(
        self, session: Session, refresh: RefreshTokenRecord, ttl_seconds: int, *, lifetime_seconds: int
    ) -> None:
        """Store a new session with the first refresh token of its family.

        The session ends ``lifetime_seconds`` after it started whatever happens (absolute lifetime); a
        refresh token lives ``ttl_seconds`` (the idle timeout) but never beyond its session.
        """

    async def get_refresh(self, token_hash: str) -> RefreshTokenRecord | None: ...

    async def is_live(self, session_id: str) -> bool: ...

    async def get_session(self, session_id: str) -> Session | None:
        """The live session, or None once it has ended."""

    async def rotate(
        self,
        old_token_hash: str,
        new: RefreshTokenRecord,
        ttl_seconds: int,
        *,
        reuse_grace_seconds: float = 0.0,
    ) -> bool:
        """Atomically mark the old token rotated and add the new one to its family.

        Returns False (and changes nothing) when the old token is no longer active (unless it was rotated
        less than ``reuse_grace_seconds`` ago: a second tab) or its session has ended, which is how a
        concurrent second use of the same token is detected. Never extends the session's lifetime.
        """

    async def revoke(self, session_id: str) -> None:
        """Delete the session and every refresh token of its family. Idempotent."""

    async def revoke_user_sessions(self, user_id: str, *, except_session_id: str | None = None) -> int:
        """Revoke every session of the user except one; returns how many were revoked."""


@runtime_checkable
class RemembersLiveness(Protocol):
    """A session store that may know, without I/O, that a session is live (adapters/session_cache.py)."""

    def remembers_live(self, session_id: str) -> bool: ...


class AccessTokenCodec(Protocol):
    def issue(self, *, user_id: str, session_id: str, email_verified: bool = False) -> tuple[str, int]:
        """Return (token, lifetime in seconds)."""

    def verify(self, token: str) -> AccessClaims:
        """Return the claims or raise ``InvalidAccessTokenError``."""


@runtime_checkable
class BudgetsWithLiveness(Protocol):
    """Two request budgets and a session's liveness judged in one round trip (the edge's admission)."""

    async def hit_two_and_check_session(
        self, first: tuple[RateRule, str], second: tuple[RateRule, str], session_id: str
    ) -> tuple[RateDecision, RateDecision, bool]:
        """``hit`` both (rule, key) pairs and say whether the session is live, as the store says now."""


class RateLimiter(Protocol):
    async def hit(self, rule: RateRule, key: str) -> RateDecision:
        """Count one event against ``rule`` for ``key`` and say whether it was within the limit."""

    async def hit_many(self, hits: Sequence[tuple[RateRule, str]]) -> list[RateDecision]:
        """``hit`` for several (rule, key) pairs at once (one round trip), decisions in the same order."""

    async def acquire(self, rule: RateRule, key: str) -> RateDecision:
        """Count one attempt *before* its outcome is known, atomically with the limit check.

        Parallel callers cannot all slip under the limit (no check-then-count race). A refused attempt is
        not counted. ``refund`` gives a counted attempt back.
        """

    async def refund(self, rule: RateRule, key: str) -> None:
        """Give back one attempt counted by ``acquire`` (the attempt turned out not to be a failure)."""
