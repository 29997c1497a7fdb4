"""`MongoAppliedEventLedger`: one document per (event id, user id) applied, unique by `_id`.

An insert with a unique `_id` is atomic on every target, FerretDB v1 included. Entries are small and kept:
pruning them would reopen the door to double counting a very late redelivery.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from users_service.adapters.documents import Document

APPLIED_EVENTS = "applied_events"


class MongoAppliedEventLedger:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._collection = database[APPLIED_EVENTS]

    async def contains(self, event_id: str, user_id: str) -> bool:
        return await self._collection.find_one({"_id": _key(event_id, user_id)}, {"_id": 1}) is not None

    async def record(self, event_id: str, user_id: str) -> None:
        # A duplicate key means a redelivery racing this one recorded it: the same fact.
        with contextlib.suppress(DuplicateKeyError):
            await self._collection.insert_one(
                {"_id": _key(event_id, user_id), "recorded_at": datetime.now(UTC)}
            )


def _key(event_id: str, user_id: str) -> str:
    return f"{event_id}:{user_id}"
