"""The admission script's own Redis path (adapters/redis_scripts.py) against a real redis-server of its own:
a Redis restart, an outage, a script Redis forgot and a read that timed out.

The budgets, verdicts and liveness through that path are pinned by test_redis_adapters.py and the HTTP tests
(as the gateway's ACL user); here the server is stopped, restarted and paused, so it is this module's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from gateway_service.adapters.rate_limiter import RedisRateLimiter
from gateway_service.adapters.redis_sessions import session_key
from gateway_service.adapters.socketio_redis import reconnecting
from gateway_service.domain.rate_limits import RateRule
from gigstack_testinfra.net import free_port
from gigstack_testinfra.servers.redis import RedisServer
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

pytestmark = pytest.mark.integration

PER_IP = RateRule("requests_per_ip", limit=1_000, window_seconds=60)
ONCE = RateRule("requests_once", limit=1, window_seconds=60)


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    # Not durable: a restart also forgets the loaded scripts, as a Redis without persistence does.
    server = RedisServer(Path(tmp_path_factory.mktemp("redis-scripts")), free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def redis(own_redis: RedisServer) -> AsyncIterator[Redis]:
    if not own_redis.is_running():
        await asyncio.to_thread(own_redis.start)
    # The gateway's client options (entrypoints/bootstrap.py), with a short read timeout for the pause test.
    client = Redis.from_url(
        own_redis.endpoint.url(0),
        socket_timeout=0.3,
        socket_connect_timeout=2,
        health_check_interval=30,
        **reconnecting(),
    )
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


async def _admit(limiter: RedisRateLimiter, rule: RateRule, key: str, session_id: str) -> tuple[bool, bool]:
    by_first, _, live = await limiter.hit_two_and_check_session((rule, key), (PER_IP, key), session_id)
    return by_first.allowed, live


async def test_the_first_admission_after_a_redis_restart_succeeds_and_counts_once(
    redis: Redis, own_redis: RedisServer
) -> None:
    limiter = RedisRateLimiter(redis, own_redis.endpoint.url(0))
    assert await _admit(limiter, PER_IP, "10.1.0.1", "none") == (True, False)  # its connection is open

    # Restarted between two requests: the kept connection is dead and the script forgotten.
    await asyncio.to_thread(own_redis.stop)
    await asyncio.to_thread(own_redis.start)

    # No spurious failure after the outage: retried on a new connection, the script loaded again, and
    # the call Redis refused for NOSCRIPT sent again exactly once (a limit of one admits it, then refuses).
    assert await _admit(limiter, ONCE, "10.1.0.2", "none") == (True, False)
    assert await _admit(limiter, ONCE, "10.1.0.2", "none") == (False, False)


async def test_admission_fails_during_an_outage_and_resumes_when_redis_is_back(
    redis: Redis, own_redis: RedisServer
) -> None:
    limiter = RedisRateLimiter(redis, own_redis.endpoint.url(0))
    assert await _admit(limiter, PER_IP, "10.2.0.1", "none") == (True, False)
    await asyncio.to_thread(own_redis.stop)
    try:
        # Nothing can be judged: the failure reaches the caller (the edge answers 503, ADR 0022;
        # test_edge_http.py pins the HTTP side), never a verdict made up without Redis.
        with pytest.raises(RedisConnectionError):
            await _admit(limiter, PER_IP, "10.2.0.2", "none")
    finally:
        await asyncio.to_thread(own_redis.start)
    await redis.set(session_key("s-live"), "1")
    assert await _admit(limiter, PER_IP, "10.2.0.3", "s-live") == (True, True)


async def test_a_timed_out_read_fails_and_its_late_reply_is_never_taken_for_a_later_call(
    redis: Redis, own_redis: RedisServer
) -> None:
    limiter = RedisRateLimiter(redis, own_redis.endpoint.url(0))
    await redis.set(session_key("s-live"), "1")
    assert await _admit(limiter, PER_IP, "10.3.0.1", "s-live") == (True, True)

    admin = Redis.from_url(own_redis.endpoint.url(0), socket_timeout=2)
    try:
        await admin.client_pause(1500)  # every client's commands wait: the 0.3 s read timeout passes
        with pytest.raises(RedisTimeoutError):
            await _admit(limiter, PER_IP, "10.3.0.2", "none")
    finally:
        await admin.aclose()
    await asyncio.sleep(1.5)  # the pause is over; Redis has answered the abandoned attempts by now

    # Each later call gets its own answer (a connection left with a late reply would hand the previous
    # call's answer to this one): live, not live, then a limit of one admitting once.
    assert await _admit(limiter, PER_IP, "10.3.0.3", "none") == (True, False)
    assert await _admit(limiter, PER_IP, "10.3.0.4", "s-live") == (True, True)
    assert await _admit(limiter, ONCE, "10.3.0.5", "none") == (True, False)
    assert await _admit(limiter, ONCE, "10.3.0.5", "none") == (False, False)


async def test_concurrent_admissions_each_get_their_own_answer(redis: Redis, own_redis: RedisServer) -> None:
    limiter = RedisRateLimiter(redis, own_redis.endpoint.url(0))
    for number in range(0, 60, 2):
        await redis.set(session_key(f"s{number}"), "1")
    answers = await asyncio.gather(*(_admit(limiter, ONCE, f"10.4.0.{n}", f"s{n}") for n in range(60)))
    # Every even session is live, every odd one not; each address admitted once, in shared round trips.
    assert answers == [(True, n % 2 == 0) for n in range(60)]
    again = await asyncio.gather(*(_admit(limiter, ONCE, f"10.4.0.{n}", "none") for n in range(60)))
    assert again == [(False, False)] * 60
