"""On real FerretDB (write claims on): a seller's edit is not refused by ratings or seller summaries written
since they read the gig, a genuine concurrent edit still is, and a seller's fan-out over their gigs is one
batched update, exact under concurrent ratings, idempotent on redelivery and never replaced by an older one.

The handlers are called directly with the app's own unit of work (the bus path is covered by
test_marketplace_events.py); the fan-out's commands are counted with PyMongo's command monitoring.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from conftest import GigApi
from gig_command_monitor import monitored_uow, stored
from gig_service.adapters.batched_writes import update_versioned_batch
from gig_service.domain.model import SellerSummary
from gig_service.service_layer.denormalised import BuyerRating, record_rating, record_seller
from servicekit.locks import KeyedLocks
from servicekit.mongo.unit_of_work import WRITE_CLAIMS_COLLECTION

SELLER = "seller-fan"
GIGS = 8
GIG_WRITES = KeyedLocks()  # as the composition root shares one among its consumers


def summary(version: int, username: str, count: int = 0) -> SellerSummary:
    return SellerSummary(SELLER, username, "Sam Seller", 4.5 if count else 0.0, count, version)


async def test_a_seller_edit_is_not_refused_by_ratings_or_seller_updates_but_a_stale_one_is(
    gig_api: GigApi,
) -> None:
    gig = await gig_api.create(SELLER)  # the seller reads version 1
    assert await record_rating(
        BuyerRating("review-a", gig["id"], 4), gig_api.deps.new_uow, gig_writes=GIG_WRITES
    )
    await record_seller(summary(1, "sam", count=2), gig_api.deps.new_uow, gig_writes=GIG_WRITES)
    assert (await stored(gig_api, gig["id"]))["version"] == 3

    seller = gig_api.as_user(SELLER)
    path = f"/api/v1/gigs/{gig['id']}"
    edited = await gig_api.client.patch(path, json={"version": 1, "price": 7000}, auth=seller)
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["version"], body["price"], body["rating_count"], body["seller_username"]) == (
        4,
        7000,
        1,
        "sam",
    )
    # the seller's other tab, still on version 1 (before their own edit at 4): 409, nothing changed
    stale = await gig_api.client.patch(path, json={"version": 1, "price": 9000}, auth=seller)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    assert (await stored(gig_api, gig["id"]))["price"] == 7000


async def test_a_seller_fan_out_is_one_batched_update_and_a_redelivery_or_older_event_writes_nothing(
    gig_api: GigApi, mongodb_url: str
) -> None:
    gigs = [await gig_api.create(SELLER, title=f"Logo {n}") for n in range(GIGS)]
    async with monitored_uow(mongodb_url) as (new_uow, commands):
        assert await record_seller(summary(3, "sam", count=2), new_uow, gig_writes=GIG_WRITES) == GIGS
        # one update command carrying every gig; claims taken and released in one command each
        assert commands.writes("gigs") == [("update", GIGS)]
        assert commands.writes("_write_claims") == [("insert", GIGS), ("delete", 1)]

        commands.seen.clear()
        for again in (summary(3, "sam", count=2), summary(2, "old", count=1)):  # a redelivery; late, older
            assert await record_seller(again, new_uow, gig_writes=GIG_WRITES) == 0
        assert commands.writes("gigs") == []
    for gig in gigs:
        after = await stored(gig_api, gig["id"])
        assert (after["seller_username"], after["seller_rating_count"], after["version"]) == ("sam", 2, 2)


async def test_a_fan_out_racing_ratings_on_the_same_gigs_loses_nothing(gig_api: GigApi) -> None:
    gigs = [await gig_api.create(SELLER, title=f"Logo {n}") for n in range(GIGS)]
    new_uow = gig_api.deps.new_uow
    ratings = [
        record_rating(BuyerRating(f"review-{n}", gig["id"], 5), new_uow, gig_writes=GIG_WRITES)
        for n, gig in enumerate(gigs)
    ]
    # two summaries at once too: whichever lands first, every gig ends at the newer one
    fan_outs = [
        record_seller(summary(1, "first"), new_uow, gig_writes=GIG_WRITES),
        record_seller(summary(2, "second"), new_uow, gig_writes=GIG_WRITES),
    ]
    await asyncio.gather(*ratings, *fan_outs)
    for gig in gigs:
        after = await stored(gig_api, gig["id"])
        assert (after["rating_count"], after["seller_username"]) == (1, "second")
        assert 3 <= after["version"] <= 4  # the rating, then v2 (and v1 if it got there first)


async def test_the_claimed_batch_skips_gigs_changed_since_read_or_claimed_by_another_writer(
    gig_api: GigApi,
) -> None:
    database = gig_api.deps.mongo.get_default_database()
    gigs, claims = database["gigs"], database[WRITE_CLAIMS_COLLECTION]
    await gigs.insert_many([{"_id": f"b-{n}", "title": "read", "version": 1} for n in range(4)])
    # after the caller read them all at version 1: another writer wrote b-1, and is writing b-2 right now
    await gigs.update_one({"_id": "b-1"}, {"$set": {"title": "theirs", "version": 2}})
    await claims.insert_one({"_id": "gigs:b-2:2", "expires_at": datetime.now(UTC) + timedelta(seconds=30)})
    items = [(f"b-{n}", 1, {"$set": {"title": "ours", "version": 2}}) for n in range(4)]

    written = await update_versioned_batch(gigs, items, write_claims=True, claim_lease=timedelta(seconds=30))

    assert written == 2
    titles = {document["_id"]: document["title"] async for document in gigs.find({"_id": {"$regex": "^b-"}})}
    assert titles == {"b-0": "ours", "b-1": "theirs", "b-2": "read", "b-3": "ours"}
    assert [document["_id"] async for document in claims.find({})] == ["gigs:b-2:2"]  # ours released
