"""Ready-made checks against real PostgreSQL and Redis servers (from the gigstack_testinfra plugin)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from servicekit.health import redis_check, run_readiness_checks, sql_check
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(postgres_url, pool_timeout=2, connect_args={"timeout": 2})
    yield engine
    await engine.dispose()


async def test_sql_and_redis_checks_pass_against_live_servers(engine: AsyncEngine, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        all_ok, results = await run_readiness_checks([sql_check(engine), redis_check(client)])
    finally:
        await client.aclose()
    assert results == {"database": "ok", "redis": "ok"}
    assert all_ok


async def test_unreachable_stores_make_the_service_not_ready() -> None:
    port = _closed_port()
    engine = create_async_engine(
        f"postgresql+asyncpg://nobody:nothing@127.0.0.1:{port}/none", connect_args={"timeout": 1}
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        all_ok, results = await run_readiness_checks([sql_check(engine), redis_check(client, timeout=1.5)])
    finally:
        await client.aclose()
        await engine.dispose()
    assert not all_ok
    assert results["database"] != "ok"
    assert results["redis"] != "ok"
