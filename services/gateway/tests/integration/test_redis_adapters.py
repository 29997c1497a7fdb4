"""The Redis adapters against a real Redis: atomic rotation, family revocation, TTLs and the limiter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from gateway_service.adapters.access_tokens import Hs256AccessTokenCodec
from gateway_service.adapters.rate_limiter import RedisRateLimiter
from gateway_service.adapters.redis_sessions import RedisSessionStore
from gateway_service.domain.errors import RefreshTokenReusedError
from gateway_service.domain.rate_limits import RateRule
from gateway_service.service_layer.sessions import SessionService
from gigstack_testinfra.plugin import RedisWithServiceUsers
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def sessions(redis: Redis) -> SessionService:
    codec = Hs256AccessTokenCodec("integration-access-token-key-0123456789abcdef", ttl_seconds=900)
    return SessionService(
        RedisSessionStore(redis), codec, refresh_ttl_seconds=3600, session_lifetime_seconds=3600
    )


async def test_concurrent_use_of_one_refresh_token_rotates_at_most_once(
    sessions: SessionService, redis: Redis
) -> None:
    issued = await sessions.start(user_id="u1", device_id="d1")

    results = await asyncio.gather(
        *(sessions.refresh(issued.refresh_token) for _ in range(8)), return_exceptions=True
    )

    successes = [r for r in results if not isinstance(r, BaseException)]
    reuses = [r for r in results if isinstance(r, RefreshTokenReusedError)]
    assert len(successes) <= 1
    assert len(successes) + len(reuses) == 8
    # Concurrent reuse is reuse: the family is gone, including whatever the winner received.
    assert not await redis.exists(f"gw:session:{issued.session_id}")
    assert [key async for key in redis.scan_iter(match="gw:refresh:*")] == []


async def test_keys_carry_the_refresh_ttl_and_revoke_removes_them(
    sessions: SessionService, redis: Redis
) -> None:
    issued = await sessions.start(user_id="u1", device_id=None)
    rotated = await sessions.refresh(issued.refresh_token)
    keys = sorted(_text(k) for k in [key async for key in redis.scan_iter(match="gw:*")])
    assert len(keys) == 5  # session, family set, rotated token, active token, the user's session set
    for key in keys:
        assert 3500 < await redis.ttl(key) <= 3600

    await sessions.end(rotated.session_id)
    assert [key async for key in redis.scan_iter(match="gw:*")] == []


async def test_ending_every_session_of_a_user_leaves_other_users_alone(
    sessions: SessionService, redis: Redis
) -> None:
    laptop = await sessions.start(user_id="u1", device_id="laptop")
    phone = await sessions.start(user_id="u1", device_id="phone")
    phone = await sessions.refresh(phone.refresh_token)
    stranger = await sessions.start(user_id="u2", device_id=None)

    assert await sessions.end_every_session("u1") == 2

    assert await redis.exists(f"gw:session:{stranger.session_id}")
    for ended in (laptop, phone):
        assert not await redis.exists(f"gw:session:{ended.session_id}")
        assert not await redis.exists(f"gw:session:{ended.session_id}:family")
    assert await redis.smembers("gw:user:u1:sessions") == set()
    # Every refresh token of u1 (the phone's rotated one and its active one, the laptop's) is gone.
    remaining = [_text(k) for k in [key async for key in redis.scan_iter(match="gw:refresh:*")]]
    assert len(remaining) == 1  # the stranger's


async def test_rate_limiter_counts_hits_and_attempts_with_refunds(redis: Redis, redis_url: str) -> None:
    limiter = RedisRateLimiter(redis, redis_url)
    exact = RateRule("failures", limit=2, window_seconds=60, exact=True)
    approximate = RateRule("requests", limit=2, window_seconds=60)

    for rule in (exact, approximate):
        assert (await limiter.hit(rule, "k")).allowed
        assert (await limiter.hit(rule, "k")).allowed
        refused = await limiter.hit(rule, "k")
        assert not refused.allowed
        assert 1 <= refused.retry_after_seconds <= 60
        assert (await limiter.hit(rule, "other-key")).allowed

    # Attempts: counted before their outcome, atomically, and given back by a refund.
    attempts = [await limiter.acquire(exact, "ip") for _ in range(3)]
    assert [decision.allowed for decision in attempts] == [True, True, False]
    assert 1 <= attempts[2].retry_after_seconds <= 60
    await limiter.refund(exact, "ip")
    assert (await limiter.acquire(exact, "ip")).allowed
    assert not (await limiter.acquire(exact, "ip")).allowed
    assert any(_text(k).startswith("gw:limits") for k in [key async for key in redis.scan_iter(match="*")])


async def test_hit_many_counts_on_the_same_counters_as_hit_in_one_round_trip(
    redis: Redis, redis_url: str, redis_with_service_users: RedisWithServiceUsers
) -> None:
    limiter = RedisRateLimiter(redis, redis_url)
    per_ip = RateRule("requests_per_ip", limit=3, window_seconds=60)
    per_account = RateRule("requests_per_account", limit=2, window_seconds=60)

    assert (await limiter.hit(per_account, "user-1")).allowed
    first = await limiter.hit_many([(per_ip, "10.0.0.1"), (per_account, "user-1")])
    assert [decision.allowed for decision in first] == [True, True]
    second = await limiter.hit_many([(per_ip, "10.0.0.1"), (per_account, "user-1")])
    assert [decision.allowed for decision in second] == [True, False], (
        "hit and hit_many share the account count"
    )
    assert 1 <= second[1].retry_after_seconds <= 60
    assert (await limiter.hit(per_ip, "10.0.0.1")).allowed
    assert not (await limiter.hit(per_ip, "10.0.0.1")).allowed, "hit_many's IP hits counted where hit looks"

    # Redis restarted and forgot the script: loaded again, nothing lost. SCRIPT FLUSH is an operator's command
    # (the gateway's ACL user may not run it), so the admin user does it.
    admin = Redis.from_url(redis_with_service_users.admin.url(0), socket_timeout=2)
    try:
        await admin.script_flush()
    finally:
        await admin.aclose()
    [other] = await limiter.hit_many([(per_ip, "10.0.0.2")])
    assert other.allowed


async def test_the_admission_script_counts_both_budgets_where_hit_does_and_reads_liveness_now(
    redis: Redis, redis_url: str, sessions: SessionService, redis_with_service_users: RedisWithServiceUsers
) -> None:
    # One script call per request at the edge (ADR 0024, edge redesign): limits' sliding window for the
    # address and the account, and EXISTS on the session, atomically.
    limiter = RedisRateLimiter(redis, redis_url)
    per_ip = RateRule("requests_per_ip", limit=3, window_seconds=60)
    per_account = RateRule("requests_per_account", limit=2, window_seconds=60)
    issued = await sessions.start(user_id="user-7", device_id=None)
    session_id = sessions.verify_access_token(issued.access_token).session_id

    assert (await limiter.hit(per_account, "user-7")).allowed
    by_ip, by_account, live = await limiter.hit_two_and_check_session(
        (per_ip, "10.0.0.7"), (per_account, "user-7"), session_id
    )
    assert (by_ip.allowed, by_account.allowed, live) == (True, True, True)
    by_ip, by_account, live = await limiter.hit_two_and_check_session(
        (per_ip, "10.0.0.7"), (per_account, "user-7"), session_id
    )
    assert (by_ip.allowed, by_account.allowed, live) == (True, False, True), "hit's account count is shared"
    assert 1 <= by_account.retry_after_seconds <= 60
    assert (await limiter.hit(per_ip, "10.0.0.7")).allowed
    assert not (await limiter.hit(per_ip, "10.0.0.7")).allowed, (
        "the script's address hits count where hit looks"
    )

    # Ended elsewhere (another replica): the very next call says so, nothing is remembered.
    await sessions.end(session_id)
    by_ip, _, live = await limiter.hit_two_and_check_session(
        (per_ip, "10.0.0.8"), (per_account, "user-8"), session_id
    )
    assert by_ip.allowed
    assert not live

    # Both budgets are counted whatever the verdicts, as the separate scripts counted them.
    per_ip_once = RateRule("requests_per_ip_once", limit=1, window_seconds=60)
    first = await limiter.hit_two_and_check_session(
        (per_ip_once, "10.0.0.9"), (per_account, "user-9"), "none"
    )
    second = await limiter.hit_two_and_check_session(
        (per_ip_once, "10.0.0.9"), (per_account, "user-9"), "none"
    )
    assert [first[0].allowed, first[1].allowed, first[2]] == [True, True, False]
    assert [second[0].allowed, second[1].allowed] == [False, True]
    assert not (await limiter.hit(per_account, "user-9")).allowed, "the account was counted twice"

    # Redis restarted and forgot the script: loaded again, nothing lost.
    admin = Redis.from_url(redis_with_service_users.admin.url(0), socket_timeout=2)
    try:
        await admin.script_flush()
    finally:
        await admin.aclose()
    by_ip, by_account, live = await limiter.hit_two_and_check_session(
        (per_ip, "10.0.0.10"), (per_account, "user-10"), "none"
    )
    assert (by_ip.allowed, by_account.allowed, live) == (True, True, False)
