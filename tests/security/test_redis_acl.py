"""Per-service Redis users on a real redis-server (the registry's ACL file, as every environment applies it):
one service's credentials cannot read another's keys, run FLUSHALL/CONFIG, or log in as `default`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from gigstack_testinfra.plugin import RedisWithServiceUsers
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

pytestmark = pytest.mark.integration


@pytest.fixture
async def clients(redis_with_service_users: RedisWithServiceUsers) -> AsyncIterator[dict[str, Redis]]:
    db = redis_with_service_users.allocator.allocate()
    opened = {
        name: Redis.from_url(redis_with_service_users.url(name, db)) for name in ("gateway", "notification")
    }
    opened["admin"] = Redis.from_url(redis_with_service_users.admin.url(db))
    yield opened
    for client in opened.values():
        await client.aclose()


async def test_each_service_reaches_only_its_own_keys(clients: dict[str, Redis]) -> None:
    gateway, notification = clients["gateway"], clients["notification"]
    await gateway.hset("gw:session:s1", mapping={"user_id": "u1"})
    await notification.set("notification:delivery:e1", "sent")

    # A compromised notification pod cannot read or mint gateway sessions, nor the other way round.
    with pytest.raises(NoPermissionError):
        await notification.hgetall("gw:session:s1")
    with pytest.raises(NoPermissionError):
        await notification.hset("gw:session:forged", mapping={"user_id": "victim"})
    with pytest.raises(NoPermissionError):
        await gateway.get("notification:delivery:e1")
    with pytest.raises(NoPermissionError):
        await gateway.set("unprefixed", "x")
    # Nor through a script naming another service's key.
    with pytest.raises((NoPermissionError, ResponseError)):
        await notification.eval("return redis.call('GET', KEYS[1])", 1, "gw:session:s1")

    assert await clients["admin"].exists("gw:session:forged") == 0
    assert await gateway.hget("gw:session:s1", "user_id") == b"u1"
    assert await notification.get("notification:delivery:e1") == b"sent"


@pytest.mark.parametrize("service", ["gateway", "notification"])
async def test_no_service_can_flush_reconfigure_or_administer(
    clients: dict[str, Redis], service: str
) -> None:
    client = clients[service]
    for attempt in (
        client.flushall(),
        client.flushdb(),
        client.config_get("*"),
        client.config_set("appendonly", "yes"),
        client.keys("*"),
        _raw(client, "ACL", "LIST"),
        _raw(client, "SCRIPT", "FLUSH"),
        _raw(client, "FUNCTION", "FLUSH"),
        _raw(client, "SHUTDOWN", "NOSAVE"),
    ):
        with pytest.raises(NoPermissionError):
            await attempt
    assert await clients["admin"].ping()


async def test_the_default_user_is_disabled(redis_with_service_users: RedisWithServiceUsers) -> None:
    endpoint = redis_with_service_users.admin
    anonymous = Redis(host=endpoint.host, port=endpoint.port)
    try:
        with pytest.raises((AuthenticationError, ResponseError)):
            await anonymous.ping()
    finally:
        await anonymous.aclose()


def _raw(client: Redis, *command: str) -> Awaitable[Any]:
    return client.execute_command(*command)  # type: ignore[no-untyped-call]


async def test_pub_sub_is_limited_to_each_services_own_channels(clients: dict[str, Redis]) -> None:
    # The gateway's Socket.IO replicas reach each other over `gw:realtime` (entrypoints/realtime.py): allowed.
    assert await clients["gateway"].publish("gw:realtime", "hello") == 0
    # Another service's channel, or one outside any prefix, is refused: no listening in or injecting pushes.
    with pytest.raises(NoPermissionError):
        await clients["notification"].publish("gw:realtime", "forged push")
    with pytest.raises(NoPermissionError):
        await clients["gateway"].publish("socketio", "x")
