"""On real FerretDB: one seller's concurrent users.seller.* deliveries in one process are handled one after
the other, so they leave the seller replica at the newest summary without any of them losing a write to
another and trying again.

Before they were serialised (`seller_key` in the shared `KeyedLocks`), every delivery read the same replica
state and raced the others' conditional writes: 7 of 13 replica writes lost here, each loser backing off and
reading again. Only FerretDB's write claim kept an older summary from replacing a newer one in that race, and
a claim used to be released even when its update's outcome was unknown (a client-side timeout on a loaded
store): the window in which two writes of the same version could both land, the older one last (servicekit
now keeps such a claim until its lease expires: libs/servicekit/tests/mongo). In order, an older summary
reads the newer one and writes nothing.

The consumer's handler is built as the composition root builds it (one `KeyedLocks` for the process) and fed
a full prefetch of one seller's events at once, in shuffled order; PyMongo's command monitoring shows every
write the deliveries sent to the replica and whether it lost a race.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from conftest import GigApi
from gig_service.adapters.sellers import SELLERS_COLLECTION
from gig_service.adapters.unit_of_work import GigUnitOfWork
from gig_service.entrypoints.marketplace_consumers import seller_handler
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent
from servicekit.events import EventEnvelope
from servicekit.locks import KeyedLocks
from servicekit.mongo.unit_of_work import WRITE_CLAIMS_COLLECTION

SELLER = "seller-replica"
VERSIONS = 12  # below the seller consumer's prefetch (16): all of them in one process at once


class ReplicaWrites(CommandListener):
    """Writes of the seller replica sent, and how many of them lost a race (refused claim, missed filter,
    duplicate insert)."""

    def __init__(self) -> None:
        self.sent = self.lost = 0
        self._watched: set[int] = set()

    def _is_replica_write(self, event: CommandStartedEvent) -> bool:
        target = event.command.get(event.command_name)
        if event.command_name in ("insert", "update") and target == SELLERS_COLLECTION:
            return True
        documents = event.command.get("documents", [])
        return bool(
            event.command_name == "insert"
            and target == WRITE_CLAIMS_COLLECTION
            and any(str(d.get("_id", "")).startswith(f"{SELLERS_COLLECTION}:") for d in documents)
        )

    def started(self, event: CommandStartedEvent) -> None:
        if self._is_replica_write(event):
            self.sent += 1
            self._watched.add(event.request_id)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        if event.request_id not in self._watched:
            return
        self._watched.discard(event.request_id)
        reply = event.reply
        if reply.get("writeErrors") or (event.command_name == "update" and reply.get("n") == 0):
            self.lost += 1

    def failed(self, event: CommandFailedEvent) -> None:
        if event.request_id in self._watched:
            self._watched.discard(event.request_id)
            self.lost += 1


def seller_event(version: int) -> EventEnvelope:
    seller = {
        "user_id": SELLER, "username": f"sam-v{version}", "full_name": "Sam Seller",
        "rating_average": 4.0, "rating_count": version,
    }  # fmt: skip
    return EventEnvelope.new(
        type="users.seller.updated.v1", producer="users", payload={"seller": seller, "version": version}
    )


async def test_one_sellers_concurrent_deliveries_keep_the_newest_summary_without_racing_each_other(
    gig_api: GigApi, mongodb_url: str
) -> None:
    writes = ReplicaWrites()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, event_listeners=[writes])
    events = [seller_event(version) for version in range(1, VERSIONS + 1)]
    random.Random(7).shuffle(events)
    try:
        database = client.get_default_database()
        handle = seller_handler(lambda: GigUnitOfWork(database), KeyedLocks())
        await asyncio.gather(*(handle(event) for event in events))
        replica = await database[SELLERS_COLLECTION].find_one({"_id": SELLER})
    finally:
        await client.close()
    assert replica is not None
    assert (replica["seller_version"], replica["username"]) == (VERSIONS, f"sam-v{VERSIONS}")
    # One after the other: no delivery lost a write to another delivery of the same process and tried again
    # (without the per-seller lock every delivery read the same state, all but one lost each round).
    assert writes.lost == 0, writes.__dict__
    # at most a claim and an update per version newer than the replica held (an insert for the first)
    assert writes.sent <= 2 * VERSIONS, writes.__dict__
