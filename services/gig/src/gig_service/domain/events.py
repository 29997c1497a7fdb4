"""Integration events the service publishes; it owns their payload schemas (docs/contracts.md).

Every event carries the gig's full state and the version it has after the change, so a consumer can apply
them idempotently and in order (the search projection indexes with external versioning on `version`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

GIG_CREATED = "gig.gig.created.v1"
GIG_UPDATED = "gig.gig.updated.v1"
GIG_DELETED = "gig.gig.deleted.v1"
PUBLISHED_EVENT_TYPES = (GIG_CREATED, GIG_UPDATED, GIG_DELETED)


@dataclass(frozen=True)
class GigChanged:
    """One of the three gig events: `type` says which; `gig` is the state after the change."""

    type: str
    gig: dict[str, Any]
    version: int

    types: ClassVar[tuple[str, ...]] = PUBLISHED_EVENT_TYPES

    def payload(self) -> dict[str, Any]:
        # `gig_id` and `seller_id` at the top too: the users service counts a seller's gigs from them
        # (docs/contracts.md, payload fields the users service reads) without knowing the gig's shape.
        return {
            "gig_id": self.gig["id"],
            "seller_id": self.gig["seller_id"],
            "gig": self.gig,
            "version": self.version,
        }
