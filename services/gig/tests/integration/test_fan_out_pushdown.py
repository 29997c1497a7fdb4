"""On FerretDB: every read of the seller fan-out's batched write is one FerretDB pushes down to PostgreSQL.

FerretDB v1 pushes down only equality on scalar values; any other filter (`{"_id": {"$in": [...]}}`) makes
PostgreSQL return the whole collection for FerretDB to decode and filter. The batched write's version re-read
was such a read, once per round of ten gigs, and it is what slowed the whole-app soak down minute by minute
as the gigs accumulated (docs/benchmarks.md, "Soak slowdown of the MongoDB-API store"). Checked with
FerretDB's `explain` (its `filterPushdown` extension) on each `find` the batch actually sent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from gig_service.adapters.batched_writes import update_versioned_batch
from gigstack_testinfra.mongo_commands import FindFilters
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration


async def test_the_batched_writes_version_reads_are_pushed_down_to_postgresql(mongodb_url: str) -> None:
    finds = FindFilters()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, event_listeners=[finds])
    try:
        database = client.get_default_database()
        if "ferretdbVersion" not in await database.command("buildInfo"):
            pytest.skip("pushdown is FerretDB's; MongoDB serves $in from its _id index")
        gigs = database["pushdown_gigs"]
        await gigs.insert_many([{"_id": f"g{i}", "version": 1} for i in range(40)])
        items = [(f"g{i}", 1, {"$set": {"title": "new", "version": 2}}) for i in range(12)]

        written = await update_versioned_batch(
            gigs, items, write_claims=True, claim_lease=timedelta(seconds=30)
        )

        assert written == 12
        reads = finds.of(gigs.name)
        assert reads, "the batch re-reads the versions it claimed"
        for query in reads:
            explained = await database.command("explain", {"find": gigs.name, "filter": query})
            assert explained["filterPushdown"] is True, (query, explained["queryPlanner"])
    finally:
        await client.close()
