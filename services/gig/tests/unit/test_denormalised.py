"""Seller summaries and buyers' ratings copied into gigs, against in-memory fakes of the ports."""

from __future__ import annotations

import pytest
from gig_fakes import FakeCoverImages, FakeUnitOfWork
from gig_service.domain.errors import GigNotFound
from gig_service.domain.events import GIG_UPDATED
from gig_service.domain.model import SellerSummary
from gig_service.service_layer import denormalised, handlers
from gig_service.service_layer.commands import CreateGig
from gig_service.service_layer.denormalised import BuyerRating, StoreBusyError, record_rating, record_seller
from servicekit.locks import KeyedLocks

FIELDS = {
    "title": "Logo design", "description": "Three concepts", "category": "design", "price": 5000,
    "currency": "USD", "delivery_days": 3,
}  # fmt: skip
GIG_WRITES = KeyedLocks()  # as the composition root shares one among its consumers


def summary(version: int, rating: float = 0.0, count: int = 0) -> SellerSummary:
    return SellerSummary("seller", "sam", "Sam Seller", rating, count, version)


async def test_a_rating_counts_once_per_review_id_and_publishes_the_gig_updated() -> None:
    uow = FakeUnitOfWork()
    gig = (await handlers.create_gig(CreateGig("seller", FIELDS), lambda: uow, FakeCoverImages())).gig
    assert await record_rating(BuyerRating("r1", gig.id, 4), lambda: uow, gig_writes=GIG_WRITES)
    assert not await record_rating(BuyerRating("r1", gig.id, 4), lambda: uow, gig_writes=GIG_WRITES)
    uow.applied_reviews.ids.clear()  # the ledger write lost (crash): the gig document still remembers r1
    assert not await record_rating(BuyerRating("r1", gig.id, 4), lambda: uow, gig_writes=GIG_WRITES)
    stored, version = uow.gigs.rows[gig.id]
    assert (stored.rating_count, stored.rating_average, version) == (1, 4.0, 2)
    assert [event.type for event in uow.gigs.published][-1] == GIG_UPDATED
    assert "recent_reviews" not in uow.gigs.published[-1].gig  # internal bookkeeping stays out of events


async def test_a_rating_of_an_unknown_gig_is_refused() -> None:
    with pytest.raises(GigNotFound):
        await record_rating(BuyerRating("r1", "nope", 4), lambda: FakeUnitOfWork(), gig_writes=GIG_WRITES)


async def test_seller_summaries_apply_by_version_and_new_gigs_copy_the_newest() -> None:
    uow = FakeUnitOfWork()
    gig = (await handlers.create_gig(CreateGig("seller", FIELDS), lambda: uow, FakeCoverImages())).gig
    assert await record_seller(summary(3, 4.5, 2), lambda: uow, gig_writes=GIG_WRITES) == 1
    assert await record_seller(summary(2, 5.0, 1), lambda: uow, gig_writes=GIG_WRITES) == 0  # late and older
    assert await record_seller(summary(3, 4.5, 2), lambda: uow, gig_writes=GIG_WRITES) == 0  # repeated
    stored, version = uow.gigs.rows[gig.id]
    assert (stored.seller_username, stored.seller_rating_count, stored.seller_version, version) == (
        "sam",
        2,
        3,
        2,
    )
    new = await handlers.create_gig(CreateGig("seller", FIELDS), lambda: uow, FakeCoverImages())
    assert (new.gig.seller_username, new.gig.seller_version, new.version) == ("sam", 3, 1)


async def test_a_seller_event_waiting_too_long_for_their_fan_out_is_handed_back_with_its_summary_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uow, locks = FakeUnitOfWork(), KeyedLocks()
    gig = (await handlers.create_gig(CreateGig("seller", FIELDS), lambda: uow, FakeCoverImages())).gig
    monkeypatch.setattr(denormalised, "FAN_OUT_WAIT_SECONDS", 0.05)
    async with locks.hold(denormalised.seller_fan_out_key("seller")):  # another delivery's fan-out, stuck
        with pytest.raises(StoreBusyError):
            await record_seller(summary(4, 4.5, 2), lambda: uow, gig_writes=locks)
    assert (await uow.sellers.get("seller")) == summary(4, 4.5, 2)  # the next fan-out copies it
    assert uow.gigs.rows[gig.id][0].seller_version == 0
    assert len(locks) == 0
    assert await record_seller(summary(3), lambda: uow, gig_writes=locks) == 1  # an older event: copies v4
    assert uow.gigs.rows[gig.id][0].seller_rating_count == 2
