"""Conversations: one per pair of users, identified by the pair itself.

The id is a name-based UUID of the two sorted user ids, so two first messages racing from either side
compute the same id and the store's unique `_id` lets only one of them create it: no duplicate
conversations, without a lookup-then-insert window. `last_seq` numbers the messages; a message takes the next
number in the same versioned write that moves `last_message_at`, so numbers are dense per conversation and
a client can resume from the last number it saw.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chat_service.domain.errors import ConversationNotFound, InvalidMessage
from chat_service.domain.message import Message, MessageContent

# Fixed forever: conversation ids derive from it.
_CONVERSATION_NAMESPACE = uuid.UUID("6f1d7c1e-3a8b-5d0e-9c4f-2b7a1e9d0c53")


def conversation_id_for(first_user: str, second_user: str) -> str:
    low, high = sorted((first_user, second_user))
    return str(uuid.uuid5(_CONVERSATION_NAMESPACE, f"{low}\n{high}"))


@dataclass
class Conversation:
    id: str
    participants: tuple[str, str]
    created_at: datetime
    last_message_at: datetime | None = None
    last_seq: int = 0

    @classmethod
    def between(cls, first_user: str, second_user: str, now: datetime) -> Conversation:
        if first_user == second_user:
            raise InvalidMessage("You cannot start a conversation with yourself")
        low, high = sorted((first_user, second_user))
        return cls(id=conversation_id_for(low, high), participants=(low, high), created_at=now)

    def is_participant(self, user_id: str) -> bool:
        return user_id in self.participants

    def other(self, user_id: str) -> str:
        """The other participant; `ConversationNotFound` for anyone who is not one (no existence leak)."""
        if not self.is_participant(user_id):
            raise ConversationNotFound()
        return self.participants[1] if self.participants[0] == user_id else self.participants[0]

    def post(self, sender_id: str, content: MessageContent, *, message_id: str, now: datetime) -> Message:
        """The next message of this conversation, numbered and timestamped here."""
        recipient_id = self.other(sender_id)
        self.last_seq += 1
        self.last_message_at = now
        return Message.create(
            id=message_id,
            conversation_id=self.id,
            seq=self.last_seq,
            sender_id=sender_id,
            recipient_id=recipient_id,
            content=content,
            now=now,
        )
