"""Redis and MongoDB-protocol (FerretDB locally) fixtures."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import redis.asyncio as redis_asyncio
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration

_seen: dict[str, set[str]] = {"redis": set(), "mongo": set()}


@pytest.mark.parametrize("run", [1, 2])
async def test_redis_db_is_flushed_and_private(redis_url: str, run: int) -> None:
    assert redis_url.startswith("redis://")
    assert redis_url not in _seen["redis"]
    _seen["redis"].add(redis_url)
    client = redis_asyncio.from_url(redis_url, socket_timeout=5)
    try:
        assert await client.dbsize() == 0
        await client.set("marker", run)
        assert await client.get("marker") == str(run).encode()
    finally:
        await client.aclose()


@pytest.mark.parametrize("run", [1, 2])
async def test_mongodb_database_is_fresh_and_private(mongodb_url: str, run: int) -> None:
    name = urlsplit(mongodb_url).path.lstrip("/")
    assert name
    assert name not in _seen["mongo"]
    _seen["mongo"].add(name)
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        mongodb_url, serverSelectionTimeoutMS=10000
    )
    try:
        database = client.get_default_database()
        assert database.name == name
        assert await database.markers.count_documents({}) == 0
        await database.markers.insert_one({"run": run})
        found = await database.markers.find_one({"run": run})
        assert found is not None
        assert found["run"] == run
    finally:
        await client.close()
