"""Optimistic concurrency on FerretDB: concurrent updates of one gig never lose one silently, and one
process's consumer deliveries for one gig do not race each other at all."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from conftest import GigApi
from gig_service.adapters.unit_of_work import GigUnitOfWork
from gig_service.entrypoints.marketplace_consumers import REVIEW_CREATED, review_handler
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent
from servicekit.events import EventEnvelope
from servicekit.locks import KeyedLocks
from servicekit.mongo.unit_of_work import WRITE_CLAIMS_COLLECTION

WRITERS = 20
PREFETCH = 16  # the review consumer's default: this many deliveries of one process at once


class WriteAttempts(CommandListener):
    """Write claims asked for and conditional gig updates sent: one of each per attempt that got that far."""

    def __init__(self) -> None:
        self.claims = self.updates = 0

    def started(self, event: CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        if event.command_name == "insert" and target == WRITE_CLAIMS_COLLECTION:
            self.claims += 1
        elif event.command_name == "update" and target == "gigs":
            self.updates += 1

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


def rating_event(gig_id: str, rating: int) -> EventEnvelope:
    payload = {
        "review_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "gig_id": gig_id,
        "seller_id": "seller-1", "buyer_id": "buyer-1", "reviewer_id": "buyer-1", "reviewer_role": "buyer",
        "rating": rating, "comment": "Great", "created_at": "2026-12-06T00:00:00+00:00",
    }  # fmt: skip
    return EventEnvelope.new(type=REVIEW_CREATED, producer="review", payload=payload)


async def test_one_process_writes_a_popular_gigs_concurrent_ratings_one_at_a_time_without_conflicts(
    gig_api: GigApi, mongodb_url: str
) -> None:
    gig = await gig_api.create("seller-1")
    attempts = WriteAttempts()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, event_listeners=[attempts])
    try:
        database = client.get_default_database()
        # The consumer's handler as the composition root builds it, fed a full prefetch of deliveries at once.
        handle = review_handler(lambda: GigUnitOfWork(database), KeyedLocks())
        started = time.monotonic()
        await asyncio.gather(*(handle(rating_event(gig["id"], 1 + n % 5)) for n in range(PREFETCH)))
        took = time.monotonic() - started
    finally:
        await client.close()
    stored = (await gig_api.client.get(f"/api/v1/gigs/{gig['id']}")).json()
    assert (stored["rating_count"], stored["version"]) == (PREFETCH, 1 + PREFETCH)
    # Each rating claimed the document once and wrote it once: no attempt lost to another delivery of the
    # same process (without the per-gig lock, most of the 16 lose each round, back off and try again).
    assert (attempts.claims, attempts.updates) == (PREFETCH, PREFETCH), f"{attempts.__dict__} in {took:.1f}s"


async def test_20_concurrent_updates_each_either_visible_or_refused_with_409(gig_api: GigApi) -> None:
    gig = await gig_api.create("seller-1")
    seller = gig_api.as_user("seller-1")

    async def add_tag(number: int) -> int:
        # Read-modify-write of the whole tag list: a lost update would drop another writer's tag.
        current = (await gig_api.client.get(f"/api/v1/gigs/{gig['id']}", auth=seller)).json()
        body = {"version": current["version"], "tags": [*current["tags"], f"t{number}"][-10:]}
        response = await gig_api.client.patch(f"/api/v1/gigs/{gig['id']}", json=body, auth=seller)
        return int(response.status_code)

    statuses = await asyncio.gather(*(add_tag(number) for number in range(WRITERS)))
    assert set(statuses) <= {200, 409}, statuses
    accepted = statuses.count(200)
    assert accepted >= 1
    final = (await gig_api.client.get(f"/api/v1/gigs/{gig['id']}", auth=seller)).json()
    assert final["version"] == 1 + accepted
    assert len([tag for tag in final["tags"] if tag != "logo"]) == min(accepted, 10)


async def test_an_update_carrying_a_stale_version_gets_409_and_changes_nothing(gig_api: GigApi) -> None:
    gig = await gig_api.create("seller-1")
    seller = gig_api.as_user("seller-1")
    path = f"/api/v1/gigs/{gig['id']}"
    assert (
        await gig_api.client.patch(path, json={"version": 1, "price": 7000}, auth=seller)
    ).status_code == 200
    stale = await gig_api.client.patch(path, json={"version": 1, "price": 9000}, auth=seller)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    assert (await gig_api.client.get(path)).json()["price"] == 7000
