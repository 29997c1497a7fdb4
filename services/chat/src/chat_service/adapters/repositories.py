"""The chat collections: versioned aggregates (servicekit.mongo) plus the queries the reads need.

Indexes are created once at start-up (`ensure_indexes`); every query below is served by one of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventEnvelope
from servicekit.events.mongo import OUTBOX_EXCLUDED
from servicekit.mongo import VersionedRepository

from chat_service.adapters.documents import (
    Document,
    conversation_document,
    conversation_of,
    message_document,
    message_of,
    required_aware,
)
from chat_service.domain.conversation import Conversation
from chat_service.domain.events import OutgoingEvent
from chat_service.domain.message import Message
from chat_service.domain.unread import UnreadNotice

CONVERSATIONS = "conversations"
MESSAGES = "messages"
UNREAD_NOTICES = "unread_notices"
DIRECTORY = "directory"
PRODUCER = "chat"


def envelopes(events: Sequence[OutgoingEvent]) -> list[EventEnvelope]:
    return [EventEnvelope.new(type=event.type, producer=PRODUCER, payload=event.payload) for event in events]


class ConversationRepository(VersionedRepository[Conversation]):
    collection_name = CONVERSATIONS

    def identity(self, aggregate: Conversation) -> Any:
        return aggregate.id

    def to_document(self, aggregate: Conversation) -> Document:
        return conversation_document(aggregate)

    def from_document(self, document: Mapping[str, Any]) -> Conversation:
        return conversation_of(document)

    async def page_of(
        self, user_id: str, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[Conversation]:
        """`user_id`'s conversations, most recent message first, strictly after the cursor position."""
        query: Document = {"participants": user_id, "last_message_at": {"$ne": None}}
        if before is not None:
            moment, conversation_id = before
            query["$or"] = [
                {"last_message_at": {"$lt": moment}},
                {"last_message_at": moment, "_id": {"$lt": conversation_id}},
            ]
        cursor = (
            self.collection.find(query)
            .sort([("last_message_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [conversation_of(document) for document in await cursor.to_list(length=limit)]


class MessageRepository(VersionedRepository[Message]):
    collection_name = MESSAGES

    def identity(self, aggregate: Message) -> Any:
        return aggregate.id

    def to_document(self, aggregate: Message) -> Document:
        return message_document(aggregate)

    def from_document(self, document: Mapping[str, Any]) -> Message:
        return message_of(document)

    def create(self, message: Message, events: Sequence[OutgoingEvent]) -> None:
        self.add(message, *envelopes(events))

    def update(self, message: Message, events: Sequence[OutgoingEvent]) -> None:
        self.save(message, *envelopes(events))

    async def by_offer(self, offer_id: str) -> Message | None:
        document = await self.collection.find_one({"offer.id": offer_id}, {"_id": 1})
        return None if document is None else await self.get(document["_id"])

    async def pending_offers_due(self, now: datetime, *, limit: int) -> list[str]:
        """Ids of messages whose offer is still pending at or past its expiry, the longest overdue first."""
        cursor = (
            self.collection.find({"offer.status": "pending", "offer.expires_at": {"$lte": now}}, {"_id": 1})
            .sort("offer.expires_at", ASCENDING)
            .limit(limit)
        )
        return [document["_id"] for document in await cursor.to_list(length=limit)]

    async def page(
        self, conversation_id: str, *, before: int | None, after: int | None, limit: int
    ) -> list[Message]:
        """Newest first below `before`, or oldest first above `after` (catching up from a seen position)."""
        query: Document = {"conversation_id": conversation_id}
        if after is not None:
            query["seq"] = {"$gt": after}
            order = ASCENDING
        else:
            order = DESCENDING
            if before is not None:
                query["seq"] = {"$lt": before}
        cursor = self.collection.find(query, OUTBOX_EXCLUDED).sort("seq", order).limit(limit)
        return [message_of(document) for document in await cursor.to_list(length=limit)]

    async def unread_ids(
        self, recipient_id: str, *, conversation_id: str | None, up_to: int | None, limit: int
    ) -> list[str]:
        query: Document = {"recipient_id": recipient_id, "read_at": None}
        if conversation_id is not None:
            query["conversation_id"] = conversation_id
        if up_to is not None:
            query["seq"] = {"$lte": up_to}
        cursor = self.collection.find(query, {"_id": 1}).sort("created_at", ASCENDING).limit(limit)
        return [document["_id"] for document in await cursor.to_list(length=limit)]

    async def unread_count(self, conversation_id: str, recipient_id: str) -> int:
        return await self.collection.count_documents(
            {"conversation_id": conversation_id, "recipient_id": recipient_id, "read_at": None}
        )

    async def unread_between(
        self, *, created_after: datetime, created_before: datetime, limit: int
    ) -> list[tuple[str, str, datetime]]:
        """(conversation id, recipient id, created_at) of unread messages created in the window."""
        cursor = (
            self.collection.find(
                {"read_at": None, "created_at": {"$gt": created_after, "$lte": created_before}},
                {"conversation_id": 1, "recipient_id": 1, "created_at": 1},
            )
            .sort("created_at", ASCENDING)
            .limit(limit)
        )
        return [
            (document["conversation_id"], document["recipient_id"], required_aware(document["created_at"]))
            for document in await cursor.to_list(length=limit)
        ]


class UnreadNoticeRepository(VersionedRepository[UnreadNotice]):
    """One document per (conversation, recipient): when the last unread-messages email went out."""

    collection_name = UNREAD_NOTICES

    def identity(self, aggregate: UnreadNotice) -> Any:
        return aggregate.id

    def to_document(self, aggregate: UnreadNotice) -> Document:
        return {
            "conversation_id": aggregate.conversation_id,
            "recipient_id": aggregate.recipient_id,
            "last_sent_at": aggregate.last_sent_at,
        }

    def from_document(self, document: Mapping[str, Any]) -> UnreadNotice:
        return UnreadNotice(
            conversation_id=document["conversation_id"],
            recipient_id=document["recipient_id"],
            last_sent_at=required_aware(document["last_sent_at"]),
        )

    def create(self, notice: UnreadNotice, events: Sequence[OutgoingEvent]) -> None:
        self.add(notice, *envelopes(events))

    def update(self, notice: UnreadNotice, events: Sequence[OutgoingEvent]) -> None:
        self.save(notice, *envelopes(events))


async def ensure_indexes(database: AsyncDatabase[Any]) -> None:
    conversations = database[CONVERSATIONS]
    await conversations.create_index(
        [("participants", ASCENDING), ("last_message_at", DESCENDING)], name="by_participant_recent"
    )
    messages = database[MESSAGES]
    await messages.create_index(
        [("conversation_id", ASCENDING), ("seq", ASCENDING)], name="by_conversation_seq"
    )
    await messages.create_index(
        [("recipient_id", ASCENDING), ("read_at", ASCENDING)], name="unread_by_recipient"
    )
    await messages.create_index([("offer.id", ASCENDING)], name="by_offer", sparse=True)
    await messages.create_index(
        [("offer.status", ASCENDING), ("offer.expires_at", ASCENDING)], name="pending_offer_expiry"
    )
    await messages.create_index([("read_at", ASCENDING), ("created_at", ASCENDING)], name="unread_by_age")
    await database[DIRECTORY].create_index([("username_key", ASCENDING)], name="by_username")
