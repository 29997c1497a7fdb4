"""The MongoDB unit of work: one command's writes, applied on commit, in the order they were staged."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from servicekit.mongo import MongoUnitOfWork

from chat_service.adapters.repositories import (
    ConversationRepository,
    MessageRepository,
    UnreadNoticeRepository,
)


class ChatUnitOfWork(MongoUnitOfWork):
    def __init__(
        self, database: AsyncDatabase[Any], *, write_claims: bool = True, claim_lease_seconds: float = 30.0
    ) -> None:
        super().__init__(database, write_claims=write_claims, claim_lease_seconds=claim_lease_seconds)
        self.conversations = ConversationRepository(self)
        self.messages = MessageRepository(self)
        self.unread_notices = UnreadNoticeRepository(self)
