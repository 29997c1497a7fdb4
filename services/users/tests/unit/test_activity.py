"""Counters and rating buckets from other services' events: exact under redelivery, reordering and crashes."""

from __future__ import annotations

import uuid

import pytest
from users_fakes import CrashError, FakeAppliedEventLedger, FakeProfileStore, account, fake_dependencies
from users_service.domain.activity import (
    GIG_CREATED,
    GIG_DELETED,
    ORDER_CANCELLED,
    ORDER_COMPLETED,
    ORDER_PLACED,
    REVIEW_CREATED,
)
from users_service.domain.errors import InvalidActivityEvent
from users_service.domain.profile import ProfileDelta
from users_service.service_layer.activity import apply_activity
from users_service.service_layer.commands import ApplyActivity, RegisterAccount
from users_service.service_layer.profiles import register_account

BUYER, SELLER = "buyer-1", "seller-1"


def _event(event_type: str, **payload: object) -> ApplyActivity:
    return ApplyActivity(str(uuid.uuid4()), event_type, dict(payload))


def _order_events(order: int) -> list[ApplyActivity]:
    ids = {"order_id": f"o{order}", "buyer_id": BUYER, "seller_id": SELLER}
    return [
        _event(ORDER_PLACED, **ids, gig_id="g1", price_minor=5000, currency="usd"),
        _event(ORDER_COMPLETED, **ids, seller_earnings_minor=4000, currency="usd"),
    ]


async def test_a_duplicated_account_event_creates_the_profile_once() -> None:
    deps = fake_dependencies()
    command = RegisterAccount(user_id=BUYER, account=account("alice"))
    await register_account(command, deps)
    await register_account(command, deps)
    renamed = await register_account(RegisterAccount(user_id=BUYER, account=account("mallory")), deps)
    assert renamed.account == account("alice")
    assert isinstance(deps.profiles, FakeProfileStore)
    assert deps.profiles.writes == 1
    assert deps.profiles.version(BUYER) == 1


async def test_counters_are_exact_after_redelivery_and_reordering() -> None:
    deps = fake_dependencies()
    events = [*_order_events(1), *_order_events(2)]
    cancelled = _event(ORDER_CANCELLED, order_id="o3", buyer_id=BUYER, seller_id=SELLER)
    placed_3 = _event(ORDER_PLACED, order_id="o3", buyer_id=BUYER, seller_id=SELLER)
    gigs = [
        _event(GIG_CREATED, gig_id="g1", seller_id=SELLER),
        _event(GIG_CREATED, gig_id="g2", seller_id=SELLER),
    ]
    deleted = _event(GIG_DELETED, gig_id="g2", seller_id=SELLER)
    # Completions and a cancellation before their placements; everything delivered twice.
    for command in [
        *reversed(events),
        cancelled,
        placed_3,
        *gigs,
        deleted,
        *events,
        cancelled,
        *gigs,
        deleted,
    ]:
        await apply_activity(command, deps)

    buyer = await deps.profiles.get(BUYER)
    seller = await deps.profiles.get(SELLER)
    assert buyer is not None
    assert seller is not None
    assert (buyer.counters.purchased_gigs, buyer.counters.cancelled_gigs) == (3, 1)
    assert seller.counters.ongoing_jobs == 0
    assert (seller.counters.completed_jobs, seller.counters.cancelled_jobs) == (2, 1)
    assert seller.counters.earnings_minor == {"USD": 8000}
    assert seller.counters.gig_count == 1


async def test_a_redelivery_reports_that_nothing_changed() -> None:
    deps = fake_dependencies()
    placed = _order_events(1)[0]
    assert (await apply_activity(placed, deps)).changed == 2
    again = await apply_activity(placed, deps)
    assert again.was_redelivery


async def test_a_crash_between_the_profile_write_and_the_ledger_never_double_counts() -> None:
    deps = fake_dependencies()
    ledger = deps.applied_events
    assert isinstance(ledger, FakeAppliedEventLedger)
    placed = _order_events(1)[0]
    ledger.crash_on_record = True
    with pytest.raises(CrashError):
        await apply_activity(placed, deps)  # buyer counted, then the process "dies"
    ledger.crash_on_record = False
    await apply_activity(placed, deps)  # the broker redelivers: buyer skipped (recent_events), seller applied

    buyer, seller = await deps.profiles.get(BUYER), await deps.profiles.get(SELLER)
    assert buyer is not None
    assert seller is not None
    assert buyer.counters.purchased_gigs == 1
    assert seller.counters.ongoing_jobs == 1
    assert (placed.event_id, BUYER) in ledger.pairs
    assert (placed.event_id, SELLER) in ledger.pairs


async def test_a_concurrent_write_from_another_replica_is_kept_and_the_change_reapplied() -> None:
    deps = fake_dependencies()
    profiles = deps.profiles
    assert isinstance(profiles, FakeProfileStore)
    await apply_activity(_event(GIG_CREATED, gig_id="g1", seller_id=SELLER), deps)
    competing = _event(GIG_CREATED, gig_id="g2", seller_id=SELLER)

    def other_replica_writes_first() -> None:
        stored, version = profiles.stored[SELLER]
        profiles.put(stored.apply(competing.event_id, ProfileDelta(gig_count=1)), version + 1)

    profiles.before_commit = other_replica_writes_first
    await apply_activity(_event(GIG_CREATED, gig_id="g3", seller_id=SELLER), deps)
    seller = await profiles.get(SELLER)
    assert seller is not None
    assert seller.counters.gig_count == 3


async def test_buyer_reviews_fill_the_sellers_rating_buckets() -> None:
    deps = fake_dependencies()
    for stars in (5, 5, 4, 1):
        review = _event(REVIEW_CREATED, seller_id=SELLER, reviewer_role="buyer", rating=stars, order_id="o")
        await apply_activity(review, deps)
        await apply_activity(review, deps)
    await apply_activity(_event(REVIEW_CREATED, seller_id=SELLER, reviewer_role="seller", rating=1), deps)
    seller = await deps.profiles.get(SELLER)
    assert seller is not None
    assert seller.ratings.stars == {1: 1, 2: 0, 3: 0, 4: 1, 5: 2}
    assert (seller.ratings.rating_sum, seller.ratings.rating_count, seller.ratings.average) == (15, 4, 3.75)


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        (ORDER_PLACED, {"buyer_id": BUYER}),
        (ORDER_PLACED, {"buyer_id": BUYER, "seller_id": BUYER}),
        (ORDER_COMPLETED, {"seller_id": SELLER, "currency": "USD", "seller_earnings_minor": -1}),
        (ORDER_COMPLETED, {"seller_id": SELLER, "currency": "USD", "seller_earnings_minor": 10.5}),
        (REVIEW_CREATED, {"seller_id": SELLER, "reviewer_role": "buyer", "rating": 6}),
        ("order.order.unknown.v1", {}),
    ],
)
async def test_an_unusable_event_is_refused_without_changing_anything(
    event_type: str, payload: dict[str, object]
) -> None:
    deps = fake_dependencies()
    with pytest.raises(InvalidActivityEvent):
        await apply_activity(_event(event_type, **payload), deps)
    assert isinstance(deps.profiles, FakeProfileStore)
    assert deps.profiles.stored == {}
