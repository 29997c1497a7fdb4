"""The directory replica: `user_id -> {username, email}` from `auth.account.created.v1` (docs/contracts.md).

Chat names users by username (`chat.conversationWith`) and emails them; it keeps this copy instead of asking
another service. Writes are upserts keyed by the user id, so repeats and the backfill change nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chat_service.adapters.repositories import DIRECTORY
from chat_service.domain.directory import DirectoryEntry


class MongoDirectory:
    def __init__(self, database: AsyncDatabase[Any]) -> None:
        self._collection = database[DIRECTORY]

    async def get(self, user_id: str) -> DirectoryEntry | None:
        document = await self._collection.find_one({"_id": user_id})
        return None if document is None else _entry(document)

    async def many(self, user_ids: list[str]) -> dict[str, DirectoryEntry]:
        """One `_id` lookup per distinct id, sent concurrently (a conversation page names a few people).

        Not `find({"_id": {"$in": ids}})`: FerretDB v1 pushes down only equality on a scalar, so `$in` made
        its PostgreSQL ship the whole directory (every account ever created) on each conversation listing,
        a cost that grew with the signups (docs/benchmarks.md, "Soak slowdown of the MongoDB-API store").
        An `_id` equality is an index lookup there and on MongoDB alike.
        """
        documents = await asyncio.gather(
            *(self._collection.find_one({"_id": i}) for i in dict.fromkeys(user_ids))
        )
        return {document["_id"]: _entry(document) for document in documents if document is not None}

    async def by_username(self, username_key: str) -> DirectoryEntry | None:
        document = await self._collection.find_one({"username_key": username_key})
        return None if document is None else _entry(document)

    async def put(self, entry: DirectoryEntry) -> bool:
        """Insert or refresh; True when it was not there before."""
        result = await self._collection.update_one(
            {"_id": entry.user_id},
            {"$set": {"username": entry.username, "username_key": entry.username_key, "email": entry.email}},
            upsert=True,
        )
        return result.upserted_id is not None


def _entry(document: dict[str, Any]) -> DirectoryEntry:
    return DirectoryEntry(user_id=document["_id"], username=document["username"], email=document["email"])
