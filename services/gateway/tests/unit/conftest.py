"""Fakes of the gateway's own ports (SessionStore, RateLimiter) for unit tests only."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import pytest
from gateway_service.adapters.access_tokens import Hs256AccessTokenCodec
from gateway_service.domain.rate_limits import RateDecision, RateRule
from gateway_service.domain.sessions import RefreshTokenRecord, RefreshTokenStatus, Session
from gateway_service.service_layer.sessions import SessionService

ACCESS_SECRET = "unit-test-access-token-key-0123456789abcdef"


class InMemorySessionStore:
    """Same contract as the Redis store; ``lose_next_rotation`` simulates a concurrent rotation."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.refresh: dict[str, RefreshTokenRecord] = {}
        self.lose_next_rotation = False

    async def create(
        self, session: Session, refresh: RefreshTokenRecord, ttl_seconds: int, *, lifetime_seconds: int
    ) -> None:
        self.sessions[session.session_id] = session
        self.refresh[refresh.token_hash] = refresh

    async def get_refresh(self, token_hash: str) -> RefreshTokenRecord | None:
        return self.refresh.get(token_hash)

    async def is_live(self, session_id: str) -> bool:
        return session_id in self.sessions

    async def get_session(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    async def rotate(
        self,
        old_token_hash: str,
        new: RefreshTokenRecord,
        ttl_seconds: int,
        *,
        reuse_grace_seconds: float = 0.0,
    ) -> bool:
        old = self.refresh.get(old_token_hash)
        if self.lose_next_rotation:
            self.lose_next_rotation = False
            if old is not None:
                self.refresh[old_token_hash] = replace(old, status=RefreshTokenStatus.ROTATED)
            return False
        if old is None or old.status is not RefreshTokenStatus.ACTIVE or old.session_id not in self.sessions:
            return False
        self.refresh[old_token_hash] = replace(old, status=RefreshTokenStatus.ROTATED)
        self.refresh[new.token_hash] = new
        return True

    async def revoke(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)
        for token_hash in [h for h, record in self.refresh.items() if record.session_id == session_id]:
            del self.refresh[token_hash]

    async def revoke_user_sessions(self, user_id: str, *, except_session_id: str | None = None) -> int:
        doomed = [
            sid
            for sid, session in self.sessions.items()
            if session.user_id == user_id and sid != except_session_id
        ]
        for sid in doomed:
            await self.revoke(sid)
        return len(doomed)


class InMemoryRateLimiter:
    """Fixed-window counter on a controllable clock."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self._hits: dict[tuple[str, str], list[float]] = {}

    def _live(self, rule: RateRule, key: str) -> list[float]:
        hits = [t for t in self._hits.get((rule.name, key), []) if t > self.now - rule.window_seconds]
        self._hits[(rule.name, key)] = hits
        return hits

    def _refused(self, rule: RateRule, hits: list[float]) -> RateDecision:
        return RateDecision(False, max(1, math.ceil(hits[0] + rule.window_seconds - self.now)))

    async def hit(self, rule: RateRule, key: str) -> RateDecision:
        hits = self._live(rule, key)
        if len(hits) >= rule.limit:
            return self._refused(rule, hits)
        hits.append(self.now)
        return RateDecision(True, 0)

    async def hit_many(self, hits: Sequence[tuple[RateRule, str]]) -> list[RateDecision]:
        return [await self.hit(rule, key) for rule, key in hits]

    async def acquire(self, rule: RateRule, key: str) -> RateDecision:
        return await self.hit(rule, key)

    async def refund(self, rule: RateRule, key: str) -> None:
        hits = self._live(rule, key)
        if hits:
            hits.pop()


@pytest.fixture
def store() -> InMemorySessionStore:
    return InMemorySessionStore()


@pytest.fixture
def codec() -> Hs256AccessTokenCodec:
    return Hs256AccessTokenCodec(ACCESS_SECRET, ttl_seconds=900)


@pytest.fixture
def session_service(store: InMemorySessionStore, codec: Hs256AccessTokenCodec) -> SessionService:
    return SessionService(store, codec, refresh_ttl_seconds=3600)


@pytest.fixture
def limiter() -> InMemoryRateLimiter:
    return InMemoryRateLimiter()
