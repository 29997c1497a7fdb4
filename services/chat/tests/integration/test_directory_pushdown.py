"""On FerretDB: naming a conversation's participants reads the directory with filters PostgreSQL serves.

FerretDB v1 pushes down only equality on scalar values; `{"_id": {"$in": [...]}}` made its PostgreSQL return
the whole directory (an entry per account ever created) on every conversation listing, a cost that grew
with the signups during the whole-app soak (docs/benchmarks.md, "Soak slowdown of the MongoDB-API store").
Checked with FerretDB's `explain` (its `filterPushdown` extension) on each `find` the lookup sent.
"""

from __future__ import annotations

from typing import Any

import pytest
from chat_service.adapters.directory import MongoDirectory
from chat_service.adapters.repositories import DIRECTORY
from chat_service.domain.directory import DirectoryEntry
from gigstack_testinfra.mongo_commands import FindFilters
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration


async def test_many_names_people_with_lookups_pushed_down_to_postgresql(mongodb_url: str) -> None:
    finds = FindFilters()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, event_listeners=[finds])
    try:
        database = client.get_default_database()
        if "ferretdbVersion" not in await database.command("buildInfo"):
            pytest.skip("pushdown is FerretDB's; MongoDB serves $in from its _id index")
        directory = MongoDirectory(database)
        for i in range(30):
            await directory.put(DirectoryEntry(f"u{i}", f"user{i}", f"user{i}@example.com"))

        people = await directory.many(["u3", "u7", "u3", "missing"])

        assert {user_id: entry.username for user_id, entry in people.items()} == {
            "u3": "user3",
            "u7": "user7",
        }
        reads = finds.of(DIRECTORY)
        assert reads
        for query in reads:
            explained = await database.command("explain", {"find": DIRECTORY, "filter": query})
            assert explained["filterPushdown"] is True, (query, explained["queryPlanner"])
    finally:
        await client.close()
