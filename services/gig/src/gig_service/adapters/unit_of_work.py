"""The MongoDB unit of work: one command's writes, applied on commit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from servicekit.mongo import MongoUnitOfWork

from gig_service.adapters.repository import GigRepository
from gig_service.adapters.sellers import AppliedReviews, SellerRepository


class GigUnitOfWork(MongoUnitOfWork):
    def __init__(
        self, database: AsyncDatabase[Any], *, write_claims: bool = True, claim_lease_seconds: float = 30.0
    ) -> None:
        super().__init__(database, write_claims=write_claims, claim_lease_seconds=claim_lease_seconds)
        # The gig repository's batched write (a seller's fan-out) follows the same claim protocol.
        self.gigs = GigRepository(
            self, write_claims=write_claims, claim_lease=timedelta(seconds=claim_lease_seconds)
        )
        self.sellers = SellerRepository(self)
        self.applied_reviews = AppliedReviews(database)
