"""The gig service's replica of seller summaries (users.seller.* events) and its applied-reviews ledger."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from servicekit.mongo import VersionedRepository

from gig_service.domain.model import SellerSummary

SELLERS_COLLECTION = "sellers"
APPLIED_REVIEWS_COLLECTION = "applied_reviews"


class SellerRepository(VersionedRepository[SellerSummary]):
    """One document per seller; `seller_version` is the users profile version that announced it (the
    document's own `version` is servicekit's optimistic-concurrency counter, bumped by every write here)."""

    collection_name = SELLERS_COLLECTION

    def identity(self, aggregate: SellerSummary) -> Any:
        return aggregate.user_id

    def to_document(self, aggregate: SellerSummary) -> dict[str, Any]:
        return {
            "username": aggregate.username,
            "full_name": aggregate.full_name,
            "rating_average": aggregate.rating_average,
            "rating_count": aggregate.rating_count,
            "seller_version": aggregate.version,
        }

    def from_document(self, document: Mapping[str, Any]) -> SellerSummary:
        return SellerSummary(
            user_id=document["_id"],
            username=document["username"],
            full_name=document["full_name"],
            rating_average=float(document["rating_average"]),
            rating_count=int(document["rating_count"]),
            version=int(document["seller_version"]),
        )


class AppliedReviews:
    """Review ids already counted into a gig's rating; one document each, unique by `_id`.

    An insert with a unique `_id` is atomic on every target, FerretDB v1 included. Entries are kept: pruning
    them would let a very late redelivery count twice.
    """

    def __init__(self, database: AsyncDatabase[Any]) -> None:
        self._collection = database[APPLIED_REVIEWS_COLLECTION]

    async def contains(self, review_id: str) -> bool:
        return await self._collection.find_one({"_id": review_id}, {"_id": 1}) is not None

    async def record(self, review_id: str, gig_id: str) -> None:
        with contextlib.suppress(DuplicateKeyError):  # a racing redelivery recorded the same fact
            await self._collection.insert_one(
                {"_id": review_id, "gig_id": gig_id, "recorded_at": datetime.now(UTC)}
            )
