"""Which profile changes announce the seller's public summary (users.seller.*), and which do not."""

from __future__ import annotations

from users_fakes import NOW, account, seller_details
from users_service.domain.profile import Profile, ProfileDelta
from users_service.domain.seller_events import SELLER_CREATED, SELLER_UPDATED, seller_change


def seller() -> Profile:
    buyer = Profile.new("u1").with_account(account())
    return buyer.become_seller(seller_details(), now=NOW, random_key=0.5)


def test_a_buyer_announces_nothing_and_becoming_a_seller_announces_created() -> None:
    buyer = Profile.new("u1").with_account(account())
    assert seller_change(None, buyer) is None
    created = seller_change(buyer, seller())
    assert created is not None
    assert created.type == SELLER_CREATED
    assert created.seller["username"] == "alice"
    assert created.payload(7)["version"] == 7


def test_an_edit_and_a_rating_announce_updated_and_counters_alone_do_not() -> None:
    before = seller()
    edited = before.edit_seller(seller_details(one_liner="Now with Rust"), expected_revision=1)
    assert (change := seller_change(before, edited)) is not None
    assert change.type == SELLER_UPDATED
    rated = before.apply("e1", ProfileDelta(star_rating=5))
    assert (change := seller_change(before, rated)) is not None
    assert change.seller["rating_count"] == 1
    counted = before.apply("e2", ProfileDelta(gig_count=1, ongoing_jobs=1))
    assert seller_change(before, counted) is None
