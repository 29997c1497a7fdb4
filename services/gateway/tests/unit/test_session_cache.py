"""The session-liveness memory: live answers are reused for a bounded time, revocations are never hidden."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway_service.adapters.session_cache import LivenessCachingSessionStore
from gateway_service.domain.sessions import RefreshTokenRecord, RefreshTokenStatus, Session


class CountingStore:
    """Sessions in a dict, counting the liveness questions that reach it (the Redis round trips)."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.liveness_checks = 0

    async def create(
        self, session: Session, refresh: RefreshTokenRecord, ttl_seconds: int, *, lifetime_seconds: int
    ) -> None:
        self.sessions[session.session_id] = session

    async def get_refresh(self, token_hash: str) -> RefreshTokenRecord | None:
        return None

    async def get_session(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    async def is_live(self, session_id: str) -> bool:
        self.liveness_checks += 1
        return session_id in self.sessions

    async def rotate(
        self,
        old_token_hash: str,
        new: RefreshTokenRecord,
        ttl_seconds: int,
        *,
        reuse_grace_seconds: float = 0.0,
    ) -> bool:
        return False

    async def revoke(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    async def revoke_user_sessions(self, user_id: str, *, except_session_id: str | None = None) -> int:
        doomed = [
            s for s, session in self.sessions.items() if session.user_id == user_id and s != except_session_id
        ]
        for session_id in doomed:
            del self.sessions[session_id]
        return len(doomed)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _start(store: CountingStore, session_id: str, user_id: str = "u1") -> None:
    now = datetime.now(UTC)
    await store.create(
        Session(session_id=session_id, user_id=user_id, device_id=None, created_at=now),
        RefreshTokenRecord(
            token_hash=f"hash-{session_id}",
            session_id=session_id,
            user_id=user_id,
            status=RefreshTokenStatus.ACTIVE,
            issued_at=now,
        ),
        60,
        lifetime_seconds=600,
    )


async def test_a_live_answer_is_reused_until_the_ttl_then_asked_again() -> None:
    inner, clock = CountingStore(), Clock()
    cached = LivenessCachingSessionStore(inner, ttl_seconds=2.0, clock=clock)
    await _start(inner, "s1")
    assert await cached.is_live("s1")
    clock.now += 1.9
    assert await cached.is_live("s1")
    assert inner.liveness_checks == 1
    clock.now += 0.2
    assert await cached.is_live("s1")
    assert inner.liveness_checks == 2


async def test_a_revocation_elsewhere_takes_effect_within_the_ttl_and_ended_sessions_are_never_cached() -> (
    None
):
    inner, clock = CountingStore(), Clock()
    cached = LivenessCachingSessionStore(inner, ttl_seconds=2.0, clock=clock)
    await _start(inner, "s1")
    assert await cached.is_live("s1")
    await inner.revoke("s1")  # another replica's signout: straight in Redis
    clock.now += 2.0
    assert not await cached.is_live("s1")
    assert not await cached.is_live("s1")
    assert inner.liveness_checks == 3, "a dead session is asked about every time"


async def test_revocations_through_this_replica_take_effect_at_once() -> None:
    inner, clock = CountingStore(), Clock()
    cached = LivenessCachingSessionStore(inner, ttl_seconds=2.0, clock=clock)
    for session_id in ("s1", "s2", "s3"):
        await _start(inner, session_id)
    await _start(inner, "other", user_id="u2")
    for session_id in ("s1", "s2", "s3", "other"):
        assert await cached.is_live(session_id)
    await cached.revoke("s1")
    assert not await cached.is_live("s1")
    assert await cached.revoke_user_sessions("u1") == 2
    assert not await cached.is_live("s2")
    assert not await cached.is_live("s3")
    assert await cached.is_live("other")


async def test_an_answer_asked_for_before_a_revocation_is_not_remembered() -> None:
    clock = Clock()

    class RacingStore(CountingStore):
        async def is_live(self, session_id: str) -> bool:
            answer = await super().is_live(session_id)  # Redis said "live" ...
            if self.liveness_checks == 1:
                await racing.revoke(session_id)  # ... and a signout landed before the answer arrived
            return answer

    inner = RacingStore()
    racing = LivenessCachingSessionStore(inner, ttl_seconds=2.0, clock=clock)
    await _start(inner, "s1")
    assert await racing.is_live("s1")
    assert not await racing.is_live("s1"), "the stale answer must not be served from memory"


async def test_ttl_zero_asks_every_time_and_memory_is_bounded() -> None:
    inner, clock = CountingStore(), Clock()
    uncached = LivenessCachingSessionStore(inner, ttl_seconds=0, clock=clock)
    await _start(inner, "s1")
    assert await uncached.is_live("s1")
    assert await uncached.is_live("s1")
    assert inner.liveness_checks == 2

    bounded = LivenessCachingSessionStore(inner, ttl_seconds=2.0, max_entries=2, clock=clock)
    for session_id in ("a", "b", "c"):
        await _start(inner, session_id)
        await bounded.is_live(session_id)
    before = inner.liveness_checks
    assert await bounded.is_live("c")
    assert await bounded.is_live("b")
    assert inner.liveness_checks == before
    assert await bounded.is_live("a")
    assert inner.liveness_checks == before + 1, "the oldest entry was dropped"


async def test_the_remembered_answer_alone_is_known_without_asking_and_only_while_it_holds() -> None:
    inner, clock = CountingStore(), Clock()
    cached = LivenessCachingSessionStore(inner, ttl_seconds=2.0, clock=clock)
    await _start(inner, "s1")
    assert not cached.remembers_live("s1"), "nothing remembered yet: the edge must ask"
    assert await cached.is_live("s1")
    assert cached.remembers_live("s1")
    clock.now += 2.0
    assert not cached.remembers_live("s1")
    assert await cached.is_live("s1")
    await cached.revoke("s1")
    assert not cached.remembers_live("s1")
    assert inner.liveness_checks == 2, "remembers_live never asks the store"
