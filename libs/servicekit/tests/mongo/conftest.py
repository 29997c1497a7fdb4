"""A database on the real FerretDB of `gigstack_testinfra`, and a small versioned aggregate to store in it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.mongo import MongoUnitOfWork, VersionedRepository, create_mongo_client


@dataclass
class Gig:
    id: str
    title: str
    tags: list[str] = field(default_factory=list)
    orders: int = 0


class GigRepository(VersionedRepository[Gig]):
    collection_name = "gigs"

    def identity(self, aggregate: Gig) -> Any:
        return aggregate.id

    def to_document(self, aggregate: Gig) -> dict[str, Any]:
        return {"title": aggregate.title, "tags": list(aggregate.tags), "orders": aggregate.orders}

    def from_document(self, document: Mapping[str, Any]) -> Gig:
        return Gig(document["_id"], document["title"], list(document["tags"]), document["orders"])


class GigUnitOfWork(MongoUnitOfWork):
    def __init__(self, database: AsyncDatabase[Any], *, write_claims: bool = True) -> None:
        super().__init__(database, write_claims=write_claims)
        self.gigs = GigRepository(self)


@pytest.fixture
async def database(mongodb_url: str) -> AsyncIterator[AsyncDatabase[Any]]:
    client = create_mongo_client(mongodb_url, timeout_seconds=10)
    try:
        yield client.get_default_database()
    finally:
        await client.close()
