"""The profile aggregate: one per account, holding its buyer side, optional seller side and counters.

Counters only ever change by adding a `ProfileDelta` that an event carries. Additions commute, so events
applied in any order end at the same totals (a counter such as ongoing jobs may dip below zero while a
"completed" arrives before its "placed"; it is exact once both are in). Each event changes a profile at most
once: its id is remembered in `recent_events` in the same document write as the change (see
service_layer/activity.py for the ledger that makes this hold beyond the bounded list).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from users_service.domain.errors import AlreadySeller, InvalidActivityEvent, SellerNotFound, StaleRevision
from users_service.domain.seller import SellerDetails

# Event ids remembered in the profile document. They only have to cover events applied to the document but
# not yet recorded in the applied-events ledger (a crash between the two writes), i.e. the in-flight ones.
RECENT_EVENTS_KEPT = 64
STAR_VALUES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Account:
    """Identity as the auth service announced it."""

    username: str
    email: str
    country: str | None
    created_at: datetime


@dataclass(frozen=True)
class ProfileDelta:
    """What one event adds to one profile's counters (all fields default to no change)."""

    purchased_gigs: int = 0
    cancelled_gigs: int = 0
    ongoing_jobs: int = 0
    completed_jobs: int = 0
    cancelled_jobs: int = 0
    gig_count: int = 0
    earnings_minor: tuple[tuple[str, int], ...] = ()  # (ISO currency, amount in minor units)
    star_rating: int | None = None

    def __post_init__(self) -> None:
        if self.star_rating is not None and self.star_rating not in STAR_VALUES:
            raise InvalidActivityEvent(f"a rating must be one of 1-5 stars, got {self.star_rating}")


@dataclass(frozen=True)
class Counters:
    purchased_gigs: int = 0
    cancelled_gigs: int = 0
    ongoing_jobs: int = 0
    completed_jobs: int = 0
    cancelled_jobs: int = 0
    gig_count: int = 0
    earnings_minor: dict[str, int] = field(default_factory=dict)

    def plus(self, delta: ProfileDelta) -> Counters:
        earnings = dict(self.earnings_minor)
        for currency, amount in delta.earnings_minor:
            earnings[currency] = earnings.get(currency, 0) + amount
        return Counters(
            purchased_gigs=self.purchased_gigs + delta.purchased_gigs,
            cancelled_gigs=self.cancelled_gigs + delta.cancelled_gigs,
            ongoing_jobs=self.ongoing_jobs + delta.ongoing_jobs,
            completed_jobs=self.completed_jobs + delta.completed_jobs,
            cancelled_jobs=self.cancelled_jobs + delta.cancelled_jobs,
            gig_count=self.gig_count + delta.gig_count,
            earnings_minor=earnings,
        )


@dataclass(frozen=True)
class Ratings:
    """Star buckets as counts per star value, plus their sum and count (average = sum / count)."""

    stars: dict[int, int] = field(default_factory=lambda: dict.fromkeys(STAR_VALUES, 0))
    rating_sum: int = 0
    rating_count: int = 0

    def with_rating(self, star: int) -> Ratings:
        stars = dict(self.stars)
        stars[star] = stars.get(star, 0) + 1
        return Ratings(stars=stars, rating_sum=self.rating_sum + star, rating_count=self.rating_count + 1)

    @property
    def average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


@dataclass(frozen=True)
class Seller:
    details: SellerDetails
    became_seller_at: datetime
    random_key: float  # uniform in [0, 1): a random sample without $sample (see adapters/profiles.py)
    revision: int = 1  # bumped by owner edits only, so counters moving never make an edit stale


@dataclass(frozen=True)
class Profile:
    """One account's profile; the store keeps its version for optimistic concurrency (servicekit.mongo)."""

    user_id: str
    account: Account | None = None
    seller: Seller | None = None
    counters: Counters = field(default_factory=Counters)
    ratings: Ratings = field(default_factory=Ratings)
    recent_events: tuple[str, ...] = ()

    @classmethod
    def new(cls, user_id: str) -> Profile:
        return cls(user_id=user_id)

    @property
    def is_announced(self) -> bool:
        """The account event has arrived (a profile may exist earlier, holding counters only)."""
        return self.account is not None

    def has_applied(self, event_id: str) -> bool:
        return event_id in self.recent_events

    def with_account(self, account: Account) -> Profile:
        """Identity is set once; a repeated or re-announced account changes nothing."""
        return self if self.account is not None else dataclasses.replace(self, account=account)

    def apply(self, event_id: str, delta: ProfileDelta) -> Profile:
        """Add an event's delta once; returns the profile unchanged if the event was already applied."""
        if self.has_applied(event_id):
            return self
        ratings = self.ratings if delta.star_rating is None else self.ratings.with_rating(delta.star_rating)
        return dataclasses.replace(
            self,
            counters=self.counters.plus(delta),
            ratings=ratings,
            recent_events=(*self.recent_events, event_id)[-RECENT_EVENTS_KEPT:],
        )

    def become_seller(self, details: SellerDetails, *, now: datetime, random_key: float) -> Profile:
        if self.seller is not None:
            raise AlreadySeller("This account is already a seller")
        return dataclasses.replace(
            self, seller=Seller(details=details, became_seller_at=now, random_key=random_key)
        )

    def edit_seller(self, details: SellerDetails, *, expected_revision: int) -> Profile:
        if self.seller is None:
            raise SellerNotFound(f"User {self.user_id} is not a seller")
        if self.seller.revision != expected_revision:
            raise StaleRevision(
                f"The seller profile is at revision {self.seller.revision}, not {expected_revision}; "
                "reload it and apply the change again"
            )
        seller = dataclasses.replace(self.seller, details=details, revision=self.seller.revision + 1)
        return dataclasses.replace(self, seller=seller)
