"""The seller events users publishes for other services' denormalised seller fields (gig's search documents).

A seller's public summary is what other services may copy: username, name, one-liner and rating. Any profile
write that changes it (becoming a seller, an owner edit, a buyer's rating) stages one event in the same
document write, carrying the whole summary and the profile's version after that write: consumers keep the
summary with the highest version they have seen, so repeats and late older events change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from users_service.domain.profile import Profile

SELLER_CREATED = "users.seller.created.v1"
SELLER_UPDATED = "users.seller.updated.v1"
SELLER_EVENT_TYPES = (SELLER_CREATED, SELLER_UPDATED)


@dataclass(frozen=True)
class SellerChanged:
    type: str
    seller: dict[str, Any]

    def payload(self, version: int) -> dict[str, Any]:
        """`version` is the profile document's version after the write that carries this event."""
        return {"seller": self.seller, "version": version}


def seller_summary(profile: Profile) -> dict[str, Any] | None:
    """The public seller fields of `profile`, JSON-ready; None when it is not a seller (yet)."""
    if profile.seller is None or profile.account is None:
        return None
    details = profile.seller.details
    return {
        "user_id": profile.user_id,
        "username": profile.account.username,
        "full_name": details.full_name,
        "one_liner": details.one_liner,
        "rating_average": profile.ratings.average or 0.0,
        "rating_count": profile.ratings.rating_count,
        "revision": profile.seller.revision,
        "became_seller_at": profile.seller.became_seller_at.isoformat(),
    }


def seller_change(before: Profile | None, after: Profile) -> SellerChanged | None:
    """The event a write from `before` to `after` must publish, if any (counters alone publish nothing)."""
    summary = seller_summary(after)
    if summary is None:
        return None
    previous = seller_summary(before) if before is not None else None
    if previous is None:
        return SellerChanged(SELLER_CREATED, summary)
    if previous != summary:
        return SellerChanged(SELLER_UPDATED, summary)
    return None
