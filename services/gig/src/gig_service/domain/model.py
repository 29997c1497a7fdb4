"""The gig aggregate: what a seller offers, its price and delivery, and whether buyers can see it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from gig_service.domain.errors import CoverNotYours, GigNotFound, InvalidGig, NotGigOwner, StaleGigVersion

TITLE_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 5000
MAX_TAGS = 10
MAX_SUB_CATEGORIES = 5
MAX_LABEL_LENGTH = 50
MAX_PRICE_MINOR = 100_000_000  # 1,000,000.00 in a two-decimal currency
MAX_DELIVERY_DAYS = 365
# Review ids remembered in the gig document: they only have to cover reviews applied to the document but not
# yet in the applied-reviews ledger (a crash between the two writes); the ledger covers the rest.
RECENT_REVIEWS_KEPT = 64
RATING_VALUES = range(1, 6)
CURRENCY = re.compile(r"^[A-Z]{3}$")
# An uploaded cover belongs to its uploader: media keys are `gigs/<user id>/<object name>`.
COVER_KEY = re.compile(r"^gigs/(?P<owner>[^/]+)/[A-Za-z0-9._-]{1,200}$")
# What counts as blank: Unicode White_Space, plus U+FEFF (whitespace to JSON Schema's ECMA-262 regexes) and
# the ASCII separators U+001C..U+001F (whitespace to Python's). The API schema's NOT_BLANK pattern names the
# same set, so a regex engine of any client, the service's own (Rust) and this check agree on blank text.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def is_blank(text: str) -> bool:
    return not text.strip(WHITE_SPACE)


EDITABLE = (
    "title",
    "description",
    "category",
    "sub_categories",
    "tags",
    "price",
    "currency",
    "delivery_days",
    "cover_image_key",
)


_INTERNAL_FIELDS = frozenset({"recent_reviews", "edit_version"})


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SellerSummary:
    """A seller as the users service announced it at profile `version` (users.seller.* payload)."""

    user_id: str
    username: str
    full_name: str
    rating_average: float
    rating_count: int
    version: int


@dataclass
class Gig:
    seller_id: str
    title: str
    description: str
    category: str
    price: int
    currency: str
    delivery_days: int
    sub_categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    cover_image_key: str | None = None
    active: bool = True
    deleted: bool = False
    rating_sum: int = 0
    rating_count: int = 0
    # The seller's public summary as the users service last announced it (users.seller.* events), copied so
    # search documents can show and sort by it; `seller_version` is the announcing profile version.
    seller_username: str | None = None
    seller_full_name: str | None = None
    seller_rating_average: float = 0.0
    seller_rating_count: int = 0
    seller_version: int = 0
    recent_reviews: list[str] = field(default_factory=list)
    # The gig version the seller's own last change (create, edit, pause, delete) produced. Ratings and seller
    # summaries copied in from other services also make new versions (events, search, write races), but they
    # are not the seller's to reconcile: a seller's change is refused only if it read a version older than
    # this one. 0 until a store fills it (a document from before the field counts its current version).
    edit_version: int = 0
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        problems: list[str] = []
        if is_blank(self.title) or len(self.title) > TITLE_MAX_LENGTH:
            problems.append(f"title must be 1 to {TITLE_MAX_LENGTH} characters")
        if is_blank(self.description) or len(self.description) > DESCRIPTION_MAX_LENGTH:
            problems.append(f"description must be 1 to {DESCRIPTION_MAX_LENGTH} characters")
        if is_blank(self.category) or len(self.category) > MAX_LABEL_LENGTH:
            problems.append(f"category must be 1 to {MAX_LABEL_LENGTH} characters")
        for name, values, limit in (
            ("tags", self.tags, MAX_TAGS),
            ("sub_categories", self.sub_categories, MAX_SUB_CATEGORIES),
        ):
            if len(values) > limit or any(is_blank(v) or len(v) > MAX_LABEL_LENGTH for v in values):
                problems.append(f"{name}: at most {limit}, each 1 to {MAX_LABEL_LENGTH} characters")
        if not 1 <= self.price <= MAX_PRICE_MINOR:
            problems.append(f"price must be 1 to {MAX_PRICE_MINOR} minor units")
        if not CURRENCY.match(self.currency):
            problems.append("currency must be an ISO 4217 code such as USD")
        if not 1 <= self.delivery_days <= MAX_DELIVERY_DAYS:
            problems.append(f"delivery_days must be 1 to {MAX_DELIVERY_DAYS}")
        match = COVER_KEY.match(self.cover_image_key) if self.cover_image_key is not None else None
        if self.cover_image_key is not None and match is None:
            problems.append("cover_image_key must be an uploaded object key (gigs/<your id>/<name>)")
        if problems:
            raise InvalidGig("; ".join(problems))
        if match is not None and match["owner"] != self.seller_id:
            raise CoverNotYours()

    @property
    def rating_average(self) -> float:
        return self.rating_sum / self.rating_count if self.rating_count else 0.0

    def ensure_owner(self, user_id: str) -> None:
        if user_id != self.seller_id:
            raise NotGigOwner()

    def visible_to(self, user_id: str | None) -> bool:
        return not self.deleted and (self.active or user_id == self.seller_id)

    def ensure_exists(self) -> None:
        if self.deleted:
            raise GigNotFound()

    def ensure_seller_read(self, expected_version: int, current_version: int) -> None:
        """A seller's change must carry a version they read that already held the seller's last change.

        Versions made since by ratings or seller summaries do not refuse it (they touch fields the seller
        cannot edit); a version before the seller's last change, or one not reached yet, does (409).
        """
        if not self.edit_version <= expected_version <= current_version:
            raise StaleGigVersion(
                details=[
                    {
                        "field": "version",
                        "message": f"the gig is at version {current_version}; the seller last changed it "
                        f"at version {self.edit_version}",
                    }
                ]
            )

    def change(self, changes: dict[str, Any]) -> None:
        """Apply editable fields; validated as a whole, so a refused change leaves the gig as it was."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidGig(f"not editable: {', '.join(sorted(unknown))}")
        before = {name: getattr(self, name) for name in changes}
        for name, value in changes.items():
            setattr(self, name, value)
        try:
            self.validate()
        except (InvalidGig, CoverNotYours):
            for name, value in before.items():
                setattr(self, name, value)
            raise
        self.updated_at = _now()

    def set_active(self, active: bool) -> None:
        self.active = active
        self.updated_at = _now()

    def delete(self) -> None:
        # A tombstone, not a removal: the document carries its outbox, and the deleted event must leave too.
        self.deleted = True
        self.active = False
        self.updated_at = _now()

    def apply_review(self, review_id: str, rating: int) -> bool:
        """Count a buyer's rating once per review id; False (and no change) when already counted here."""
        if rating not in RATING_VALUES:
            raise InvalidGig(f"a rating must be 1 to 5 stars, got {rating}")
        if review_id in self.recent_reviews:
            return False
        self.rating_sum += rating
        self.rating_count += 1
        self.recent_reviews = [*self.recent_reviews, review_id][-RECENT_REVIEWS_KEPT:]
        return True

    def apply_seller(self, seller: SellerSummary) -> bool:
        """Copy a newer seller summary; False when this gig already has that version or a newer one."""
        if seller.version <= self.seller_version or seller.user_id != self.seller_id:
            return False
        self.seller_username = seller.username
        self.seller_full_name = seller.full_name
        self.seller_rating_average = seller.rating_average
        self.seller_rating_count = seller.rating_count
        self.seller_version = seller.version
        return True

    def state(self) -> dict[str, Any]:
        """Every public field, JSON-ready (dates as ISO 8601): the payload of the gig's events."""
        state: dict[str, Any] = {}
        for item in fields(self):
            if item.name in _INTERNAL_FIELDS:
                continue
            value = getattr(self, item.name)
            state[item.name] = value.isoformat() if isinstance(value, datetime) else value
        state["rating_average"] = self.rating_average
        return state
