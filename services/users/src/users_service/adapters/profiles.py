"""`MongoProfileRepository`: profiles in the `profiles` collection, written with a version guard.

`save` replaces the document only if its `version` is still the one it was read at (compare-and-set); a
miss is a `ConcurrentUpdateError` the writer retries on fresh state. That is exact on MongoDB and DocumentDB;
on FerretDB v1 the guard is checked at read time only (see service_layer/locks.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from users_service.adapters.documents import Document, from_document, to_document
from users_service.domain.profile import Profile
from users_service.service_layer.ports import ConcurrentUpdateError

PROFILES = "profiles"


class MongoProfileRepository:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._collection: AsyncCollection[Document] = database[PROFILES]

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

    async def add(self, profile: Profile) -> Profile:
        try:
            await self._collection.insert_one(to_document(profile, version=1))
        except DuplicateKeyError as error:
            raise ConcurrentUpdateError(f"profile {profile.user_id} was created concurrently") from error
        return _at_version(profile, 1)

    async def save(self, profile: Profile) -> Profile:
        next_version = profile.version + 1
        result = await self._collection.replace_one(
            {"_id": profile.user_id, "version": profile.version}, to_document(profile, version=next_version)
        )
        if result.matched_count != 1:
            raise ConcurrentUpdateError(
                f"profile {profile.user_id} is no longer at version {profile.version}"
            )
        return _at_version(profile, next_version)

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


def _at_version(profile: Profile, version: int) -> Profile:
    return replace(profile, version=version)
