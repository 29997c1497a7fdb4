"""The seller's own writes against projections of other services' data (ratings, seller summaries), and the
batched seller fan-out, against in-memory fakes of the ports."""

from __future__ import annotations

import pytest
from gig_fakes import FakeCoverImages, FakeUnitOfWork
from gig_service.domain.errors import StaleGigVersion
from gig_service.domain.events import GIG_UPDATED
from gig_service.domain.model import SellerSummary
from gig_service.service_layer import handlers
from gig_service.service_layer.commands import CreateGig, DeleteGig, SetGigActive, UpdateGig
from gig_service.service_layer.denormalised import BuyerRating, record_rating, record_seller
from servicekit.locks import KeyedLocks

FIELDS = {
    "title": "Logo design", "description": "Three concepts", "category": "design", "price": 5000,
    "currency": "USD", "delivery_days": 3,
}  # fmt: skip
COVERS = FakeCoverImages()


GIG_WRITES = KeyedLocks()  # as the composition root shares one among its consumers


def summary(version: int, username: str = "sam", count: int = 0) -> SellerSummary:
    return SellerSummary("seller", username, "Sam Seller", 4.0 if count else 0.0, count, version)


async def new_gig(uow: FakeUnitOfWork) -> str:
    return (await handlers.create_gig(CreateGig("seller", FIELDS), lambda: uow, COVERS)).gig.id


async def test_a_seller_edit_from_the_version_read_succeeds_after_ratings_and_seller_updates_landed() -> None:
    uow = FakeUnitOfWork()
    gig_id = await new_gig(uow)  # the seller reads version 1
    assert await record_rating(BuyerRating("r1", gig_id, 4), lambda: uow, gig_writes=GIG_WRITES)  # version 2
    assert await record_seller(summary(2, count=3), lambda: uow, gig_writes=GIG_WRITES) == 1  # version 3
    edited = await handlers.update_gig(UpdateGig(gig_id, "seller", 1, {"price": 7000}), lambda: uow, COVERS)
    assert edited.version == 4
    stored, version = uow.gigs.rows[gig_id]
    # the edit kept what landed in between, and its event carries all of it
    assert (stored.price, stored.rating_count, stored.seller_rating_count, version) == (7000, 1, 3, 4)
    assert (uow.gigs.published[-1].type, uow.gigs.published[-1].gig["rating_count"]) == (GIG_UPDATED, 1)
    # pause and delete follow the same rule
    assert await record_rating(BuyerRating("r2", gig_id, 5), lambda: uow, gig_writes=GIG_WRITES)  # version 5
    paused = await handlers.set_gig_active(SetGigActive(gig_id, "seller", 4, False), lambda: uow)
    assert paused.version == 6
    assert await record_rating(BuyerRating("r3", gig_id, 5), lambda: uow, gig_writes=GIG_WRITES)  # version 7
    await handlers.delete_gig(DeleteGig(gig_id, "seller", 6), lambda: uow)
    assert uow.gigs.rows[gig_id][0].deleted


async def test_a_version_from_before_the_sellers_last_change_is_still_refused() -> None:
    uow = FakeUnitOfWork()
    gig_id = await new_gig(uow)
    await handlers.update_gig(UpdateGig(gig_id, "seller", 1, {"price": 7000}), lambda: uow, COVERS)  # v2
    assert await record_rating(BuyerRating("r1", gig_id, 4), lambda: uow, gig_writes=GIG_WRITES)  # v3
    for stale in (1, 4):  # before the seller's change at 2; a version the gig never had
        with pytest.raises(StaleGigVersion):
            await handlers.update_gig(
                UpdateGig(gig_id, "seller", stale, {"price": 9000}), lambda: uow, COVERS
            )
    assert uow.gigs.rows[gig_id][0].price == 7000
    # read after the seller's change, before the rating: accepted (v4); then at the current version (v6)
    await handlers.update_gig(UpdateGig(gig_id, "seller", 2, {"tags": ["x"]}), lambda: uow, COVERS)
    assert await record_rating(BuyerRating("r2", gig_id, 4), lambda: uow, gig_writes=GIG_WRITES)  # v5
    await handlers.update_gig(UpdateGig(gig_id, "seller", 5, {"tags": ["y"]}), lambda: uow, COVERS)
    stored, version = uow.gigs.rows[gig_id]
    assert (stored.tags, stored.rating_count, version, stored.edit_version) == (["y"], 2, 6, 6)


async def test_a_seller_write_that_loses_to_a_rating_is_made_again_and_keeps_the_rating() -> None:
    uow = FakeUnitOfWork()
    gig_id = await new_gig(uow)

    async def rating_lands() -> None:
        assert await record_rating(BuyerRating("r1", gig_id, 5), lambda: uow, gig_writes=GIG_WRITES)

    uow.before_commit = rating_lands  # between the edit's read and its conditional write
    edited = await handlers.update_gig(UpdateGig(gig_id, "seller", 1, {"price": 7000}), lambda: uow, COVERS)
    stored, version = uow.gigs.rows[gig_id]
    assert (edited.version, version, stored.price, stored.rating_count) == (3, 3, 7000, 1)


async def test_a_genuinely_concurrent_seller_edit_still_gets_409() -> None:
    uow = FakeUnitOfWork()
    gig_id = await new_gig(uow)

    async def other_edit_lands() -> None:  # the seller's other tab, from the same version 1
        await handlers.update_gig(UpdateGig(gig_id, "seller", 1, {"price": 8000}), lambda: uow, COVERS)

    uow.before_commit = other_edit_lands
    with pytest.raises(StaleGigVersion):
        await handlers.update_gig(UpdateGig(gig_id, "seller", 1, {"price": 7000}), lambda: uow, COVERS)
    assert uow.gigs.rows[gig_id][0].price == 8000


async def test_a_seller_fan_out_over_n_gigs_is_one_batched_write_and_a_redelivery_writes_nothing() -> None:
    uow = FakeUnitOfWork()
    gig_ids = {await new_gig(uow) for _ in range(6)}
    uow.gigs.published.clear()
    assert await record_seller(summary(3, count=2), lambda: uow, gig_writes=GIG_WRITES) == 6
    assert [set(batch) for batch in uow.gigs.batches] == [gig_ids]
    assert sorted(event.gig["id"] for event in uow.gigs.published) == sorted(gig_ids)  # one event each
    assert {event.version for event in uow.gigs.published} == {2}
    # a redelivery, and a late older summary: nothing is listed, nothing written
    assert await record_seller(summary(3, count=2), lambda: uow, gig_writes=GIG_WRITES) == 0
    assert await record_seller(summary(2, username="old"), lambda: uow, gig_writes=GIG_WRITES) == 0
    assert len(uow.gigs.batches) == 1
    assert all(row[0].seller_username == "sam" and row[1] == 2 for row in uow.gigs.rows.values())


async def test_an_older_fan_out_overtaken_by_a_newer_one_mid_batch_overwrites_nothing() -> None:
    uow = FakeUnitOfWork()
    gig_ids = [await new_gig(uow) for _ in range(3)]
    newer_done: list[int] = []

    def newer_lands() -> None:
        # The v3 fan-out writes every gig after the v2 fan-out listed them but before its batch lands.
        for gig_id in gig_ids:
            gig, version = uow.gigs.rows[gig_id]
            gig.apply_seller(summary(3, username="new"))
            uow.gigs.rows[gig_id] = (gig, version + 1)
        newer_done.append(1)

    uow.gigs.before_batch_write = newer_lands
    assert await record_seller(summary(2, username="old"), lambda: uow, gig_writes=GIG_WRITES) == 0
    assert newer_done
    assert all(uow.gigs.rows[gig_id][0].seller_username == "new" for gig_id in gig_ids)


async def test_a_gig_that_changed_mid_batch_gets_the_summary_on_its_own_and_loses_nothing() -> None:
    uow = FakeUnitOfWork()
    gig_ids = [await new_gig(uow) for _ in range(3)]

    def rating_lands() -> None:  # a rating written to one gig between the listing and the batch
        gig, version = uow.gigs.rows[gig_ids[0]]
        gig.apply_review("r1", 5)
        uow.gigs.rows[gig_ids[0]] = (gig, version + 1)

    uow.gigs.before_batch_write = rating_lands
    assert await record_seller(summary(2, count=1), lambda: uow, gig_writes=GIG_WRITES) == 3
    first, version = uow.gigs.rows[gig_ids[0]]
    assert (first.rating_count, first.seller_version, version) == (1, 2, 3)
    assert all(uow.gigs.rows[gig_id][0].seller_version == 2 for gig_id in gig_ids)
