"""Profiles in the `profiles` collection: versioned writes through servicekit's Mongo unit of work, and
the reads queries need (by username, random sellers without `$sample`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventEnvelope
from servicekit.mongo import ConcurrentUpdateError as StoreConflict
from servicekit.mongo import MongoUnitOfWork, VersionedRepository

from users_service.adapters.documents import Document, from_document, to_document
from users_service.domain.profile import Profile
from users_service.domain.seller_events import seller_change
from users_service.service_layer.ports import ConcurrentUpdateError

PROFILES = "profiles"


class ProfileDocuments(VersionedRepository[Profile]):
    """Profiles, one document each. Every write that changes a seller's public summary also stages its
    `users.seller.*` event in the document's outbox, in the same single-document write (no write can change
    the summary without announcing it, and no event leaves for a write that lost)."""

    collection_name = PROFILES

    def __init__(self, uow: MongoUnitOfWork) -> None:
        super().__init__(uow)
        self._read: dict[str, Profile] = {}

    async def get(self, aggregate_id: Any) -> Profile | None:
        profile = await super().get(aggregate_id)
        if profile is not None:
            self._read[profile.user_id] = profile
        return profile

    def add(self, aggregate: Profile, *events: EventEnvelope) -> None:
        super().add(aggregate, *events, *self._seller_events(None, aggregate, version=1))

    def save(self, aggregate: Profile, *events: EventEnvelope) -> None:
        version = (self.version_of(aggregate) or 0) + 1
        before = self._read.get(aggregate.user_id)
        super().save(aggregate, *events, *self._seller_events(before, aggregate, version=version))

    @staticmethod
    def _seller_events(before: Profile | None, after: Profile, *, version: int) -> list[EventEnvelope]:
        changed = seller_change(before, after)
        if changed is None:
            return []
        return [EventEnvelope.new(type=changed.type, producer="users", payload=changed.payload(version))]

    def identity(self, aggregate: Profile) -> Any:
        return aggregate.user_id

    def to_document(self, aggregate: Profile) -> Document:
        return to_document(aggregate)

    def from_document(self, document: Mapping[str, Any]) -> Profile:
        return from_document(document)


class MongoProfileUnitOfWork(MongoUnitOfWork):
    """One command's profile writes. Write claims stay on (servicekit.mongo): FerretDB v1 checks the version
    filter only when reading, and the claim is what makes two concurrent writers of one version conflict."""

    def __init__(
        self, database: AsyncDatabase[Any], *, claim_lease_seconds: float, write_claims: bool = True
    ) -> None:
        super().__init__(database, write_claims=write_claims, claim_lease_seconds=claim_lease_seconds)
        self.profiles = ProfileDocuments(self)

    async def commit(self) -> None:
        try:
            await super().commit()
        except StoreConflict as error:  # also DocumentExistsError: created by another writer meanwhile
            raise ConcurrentUpdateError(str(error)) from error


class MongoProfileReader:
    def __init__(self, database: AsyncDatabase[Any]) -> None:
        self._collection: AsyncCollection[Any] = database[PROFILES]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("username", ASCENDING)], name="by_username")
        await self._collection.create_index(
            [("is_seller", ASCENDING), ("random_key", ASCENDING)], name="sellers_by_random_key"
        )

    async def get(self, user_id: str) -> Profile | None:
        document = await self._collection.find_one({"_id": user_id})
        return from_document(document) if document else None

    async def by_username(self, username: str) -> Profile | None:
        document = await self._collection.find_one({"username": username})
        return from_document(document) if document else None

    async def random_sellers(self, count: int, *, pivot: float) -> list[Profile]:
        # A random key per seller, fixed when they become one; start at a random pivot and wrap around.
        # Portable where `$sample` is not (FerretDB v1), and an index range scan, not a collection scan.
        found = await self._sellers({"$gte": pivot}, count)
        if len(found) < count:
            found += await self._sellers({"$lt": pivot}, count - len(found))
        return [from_document(document) for document in found]

    async def _sellers(self, key_range: dict[str, Any], limit: int) -> list[Document]:
        cursor = (
            self._collection.find({"is_seller": True, "random_key": key_range})
            .sort("random_key", ASCENDING)
            .limit(limit)
        )
        return await cursor.to_list(length=limit)
