"""The outbox relay and the seller fan-out's batched write take one and the same claim per gig version.

servicekit's `MongoOutboxRelay` (write claims on, as gig runs on FerretDB) updates a gig at version `v` only
inside the claim `gigs:<id>:<v + 1>`, the one a writer of the next version takes; the batched write
(adapters/batched_writes.py) claims the same key, so while the relay removes a gig's published entries the
fan-out leaves that gig for its fallback, and the other way round. Real FerretDB.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from gig_service.adapters.batched_writes import update_versioned_batch
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent
from servicekit.mongo import create_mongo_client
from servicekit.write_claims import WRITE_CLAIMS_COLLECTION, WriteClaims, claim_key

pytestmark = pytest.mark.integration

LEASE = timedelta(seconds=30)


async def _summarise(database: AsyncDatabase[Any]) -> int:
    """The fan-out's batched write of one gig read at version 3; returns how many gigs it wrote."""
    update = {"$set": {"seller_username": "new", "version": 4}}
    return await update_versioned_batch(
        database["gigs"], [("g1", 3, update)], write_claims=True, claim_lease=LEASE
    )


async def test_a_gig_claimed_by_the_relay_is_left_by_the_batched_write_until_released(
    mongodb_url: str,
) -> None:
    client = create_mongo_client(mongodb_url, timeout_seconds=10)
    try:
        database = client.get_default_database()
        await database["gigs"].insert_one({"_id": "g1", "version": 3, "seller_username": "old"})
        relay_claim = await WriteClaims(lease_seconds=30).take(database["gigs"], "g1", 3 + 1)
        assert relay_claim is not None

        assert await _summarise(database) == 0
        await relay_claim.release()
        assert await _summarise(database) == 1

        stored = await database["gigs"].find_one({"_id": "g1"})
        assert stored is not None
        assert (stored["version"], stored["seller_username"]) == (4, "new")
    finally:
        await client.close()


class ClaimInserts(CommandListener):
    """The `_id` of every claim inserted into `_write_claims`."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name == "insert" and event.command.get("insert") == WRITE_CLAIMS_COLLECTION:
            self.keys += [document["_id"] for document in event.command.get("documents", [])]

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


async def test_the_batched_write_claims_the_key_the_relay_claims(mongodb_url: str) -> None:
    inserts = ClaimInserts()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, timeoutMS=10_000, event_listeners=[inserts])
    try:
        database = client.get_default_database()
        await database["gigs"].insert_one({"_id": "g1", "version": 3, "seller_username": "old"})
        assert await _summarise(database) == 1
        # The relay, for a gig it read at version 3: `WriteClaims.take(gigs, "g1", 3 + 1)`.
        assert inserts.keys == [claim_key("gigs", "g1", 3 + 1)]
    finally:
        await client.close()
