"""Per-test namespaces inside the shared servers: databases, vhosts, Redis db indices, index prefixes.

Fixtures are synchronous (they must work whatever event loop a test uses), so the async-only drivers
(asyncpg, asyncmy) run on a private loop in a worker thread instead of touching the test's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import quote

import asyncmy
import asyncpg
import httpx
import pymongo
import redis

from .endpoints import (
    MariaDBEndpoint,
    MongoEndpoint,
    OpenSearchEndpoint,
    PostgresEndpoint,
    RabbitMQEndpoint,
    RedisEndpoint,
)

T = TypeVar("T")
TIMEOUT = 30.0


def unique_name(prefix: str = "test") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def run_in_private_loop(coroutine_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on a fresh event loop in a worker thread and return its result."""

    async def bounded() -> T:
        return await asyncio.wait_for(coroutine_factory(), timeout=TIMEOUT)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, bounded()).result()


# --- PostgreSQL ---------------------------------------------------------------------------------------------


def create_postgres_database(endpoint: PostgresEndpoint, name: str) -> None:
    async def create() -> None:
        conn = await asyncpg.connect(endpoint.plain_url("postgres"), timeout=TIMEOUT)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    run_in_private_loop(create)


def drop_postgres_database(endpoint: PostgresEndpoint, name: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(endpoint.plain_url("postgres"), timeout=TIMEOUT)
        try:
            # FORCE: a service under test may still hold pooled connections.
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_in_private_loop(drop)


# --- MariaDB ------------------------------------------------------------------------------------------------


async def mariadb_execute(endpoint: MariaDBEndpoint, *statements: str) -> None:
    conn = await asyncmy.connect(
        host=endpoint.host,
        port=endpoint.port,
        user=endpoint.user,
        password=endpoint.password,
        connect_timeout=int(TIMEOUT),
    )
    try:
        async with conn.cursor() as cursor:
            for statement in statements:
                await cursor.execute(statement)
    finally:
        conn.close()


def create_mariadb_database(endpoint: MariaDBEndpoint, name: str) -> None:
    run_in_private_loop(
        lambda: mariadb_execute(
            endpoint, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    )


def drop_mariadb_database(endpoint: MariaDBEndpoint, name: str) -> None:
    # Kill leftover sessions first so DROP does not wait on their metadata locks.
    async def drop() -> None:
        conn = await asyncmy.connect(
            host=endpoint.host,
            port=endpoint.port,
            user=endpoint.user,
            password=endpoint.password,
            connect_timeout=int(TIMEOUT),
        )
        try:
            async with conn.cursor() as cursor:
                await cursor.execute(
                    "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
                    (name,),
                )
                for (session_id,) in await cursor.fetchall():
                    try:
                        await cursor.execute(f"KILL {int(session_id)}")
                    except Exception:  # noqa: S112 - the session may have ended meanwhile
                        continue
                await cursor.execute("SET SESSION lock_wait_timeout = 10")
                await cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()

    run_in_private_loop(drop)


# --- Redis --------------------------------------------------------------------------------------------------


class RedisDatabaseAllocator:
    """Hands out db indices 1..N-1 round robin (0 stays free for humans); each is flushed before use."""

    def __init__(self, endpoint: RedisEndpoint) -> None:
        self.endpoint = endpoint
        self._indices = itertools.cycle(range(1, endpoint.databases))
        self._lock = threading.Lock()

    def allocate(self) -> int:
        with self._lock:
            index = next(self._indices)
        client = redis.Redis(
            host=self.endpoint.host,
            port=self.endpoint.port,
            db=index,
            username=self.endpoint.username,
            password=self.endpoint.password,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
        )
        try:
            client.flushdb()
        finally:
            client.close()
        return index


# --- RabbitMQ -----------------------------------------------------------------------------------------------


def create_vhost(endpoint: RabbitMQEndpoint, vhost: str) -> None:
    encoded = quote(vhost, safe="")
    with httpx.Client(
        base_url=endpoint.management_url, auth=(endpoint.user, endpoint.password), timeout=TIMEOUT
    ) as client:
        client.put(f"/api/vhosts/{encoded}").raise_for_status()
        client.put(
            f"/api/permissions/{encoded}/{quote(endpoint.user, safe='')}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()


def delete_vhost(endpoint: RabbitMQEndpoint, vhost: str) -> None:
    with httpx.Client(
        base_url=endpoint.management_url, auth=(endpoint.user, endpoint.password), timeout=TIMEOUT
    ) as client:
        response = client.delete(f"/api/vhosts/{quote(vhost, safe='')}")
        if response.status_code not in (204, 404):
            response.raise_for_status()


# --- MongoDB (FerretDB) -------------------------------------------------------------------------------------


def drop_mongo_database(endpoint: MongoEndpoint, name: str) -> None:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        endpoint.url(name), serverSelectionTimeoutMS=int(TIMEOUT * 1000), timeoutMS=int(TIMEOUT * 1000)
    )
    try:
        client.drop_database(name)
    finally:
        client.close()


# --- OpenSearch ---------------------------------------------------------------------------------------------


def delete_indices_with_prefix(endpoint: OpenSearchEndpoint, prefix: str) -> None:
    # List then delete by exact name: wildcard deletes may be refused (action.destructive_requires_name).
    with httpx.Client(base_url=endpoint.url, timeout=TIMEOUT) as client:
        listing = client.get(f"/_cat/indices/{prefix}*", params={"format": "json", "expand_wildcards": "all"})
        if listing.status_code == 404:
            return
        listing.raise_for_status()
        for index in listing.json():
            client.delete(f"/{index['index']}").raise_for_status()
