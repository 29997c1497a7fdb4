"""The MongoDB unit of work: one command's writes, applied on commit."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from servicekit.mongo import MongoUnitOfWork

from gig_service.adapters.repository import GigRepository
from gig_service.adapters.sellers import AppliedReviews, SellerRepository


class GigUnitOfWork(MongoUnitOfWork):
    def __init__(self, database: AsyncDatabase[Any], *, write_claims: bool = True) -> None:
        super().__init__(database, write_claims=write_claims)
        self.gigs = GigRepository(self)
        self.sellers = SellerRepository(self)
        self.applied_reviews = AppliedReviews(database)
