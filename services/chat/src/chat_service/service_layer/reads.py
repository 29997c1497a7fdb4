"""Reads: my conversations, the conversation with a user, a conversation's messages. Participants only.

Cursors are opaque to clients: a conversation page resumes after (last_message_at, id), a message page
after a message number (`seq`), which also lets a reconnecting client fetch everything after the last message
it saw.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from chat_service.domain.conversation import Conversation, conversation_id_for
from chat_service.domain.directory import DirectoryEntry, InvalidAccount, username_key
from chat_service.domain.errors import ConversationNotFound, InvalidCursor, InvalidMessage, UserNotFound
from chat_service.domain.message import Message
from chat_service.service_layer.dependencies import HandlerDeps


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    other_user: DirectoryEntry | None
    other_user_id: str
    unread_count: int
    started: bool


Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    next_cursor: str | None


def encode_conversation_cursor(conversation: Conversation) -> str:
    moment = conversation.last_message_at.isoformat() if conversation.last_message_at else ""
    raw = json.dumps([moment, conversation.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_conversation_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        moment, conversation_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(moment)
    except (ValueError, TypeError, binascii.Error) as error:
        raise InvalidCursor() from error
    if when.tzinfo is None or not isinstance(conversation_id, str):
        raise InvalidCursor()
    return when, conversation_id


def decode_seq_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 12:
        raise InvalidCursor()
    return int(cursor)


async def my_conversations(
    user_id: str, cursor: str | None, limit: int, deps: HandlerDeps
) -> Page[ConversationView]:
    before = None if cursor is None else decode_conversation_cursor(cursor)
    async with deps.new_uow() as uow:
        # One row past the page says whether another page exists: a full last page gets no cursor.
        conversations = await uow.conversations.page_of(user_id, before=before, limit=limit + 1)
        more, conversations = len(conversations) > limit, conversations[:limit]
        counts = [await uow.messages.unread_count(c.id, user_id) for c in conversations]
    others = [c.other(user_id) for c in conversations]
    people = await deps.directory.many(others) if others else {}
    views = [
        ConversationView(c, people.get(other), other, count, started=True)
        for c, other, count in zip(conversations, others, counts, strict=True)
    ]
    next_cursor = encode_conversation_cursor(conversations[-1]) if more else None
    return Page(views, next_cursor)


async def conversation_with(user_id: str, username: str, deps: HandlerDeps) -> ConversationView:
    """The conversation with the user called `username`; not started yet until the first message."""
    try:
        key = username_key(username)
    except InvalidAccount as error:
        raise UserNotFound() from error
    other = await deps.directory.by_username(key)
    if other is None:
        raise UserNotFound()
    if other.user_id == user_id:
        raise InvalidMessage("You cannot have a conversation with yourself")
    async with deps.new_uow() as uow:
        conversation = await uow.conversations.get(conversation_id_for(user_id, other.user_id))
        if conversation is None:
            fresh = Conversation.between(user_id, other.user_id, deps.clock())
            return ConversationView(fresh, other, other.user_id, 0, started=False)
        count = await uow.messages.unread_count(conversation.id, user_id)
    return ConversationView(conversation, other, other.user_id, count, started=True)


async def messages_of(
    user_id: str,
    conversation_id: str,
    *,
    before: str | None,
    after: str | None,
    limit: int,
    deps: HandlerDeps,
) -> Page[Message]:
    if before is not None and after is not None:
        raise InvalidCursor("Give at most one of before and after")
    before_seq, after_seq = decode_seq_cursor(before), decode_seq_cursor(after)
    async with deps.new_uow() as uow:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None or not conversation.is_participant(user_id):
            raise ConversationNotFound()
        messages = await uow.messages.page(
            conversation_id, before=before_seq, after=after_seq, limit=limit + 1
        )
    # One message past the page says whether another page exists: a full last page gets no cursor.
    more, messages = len(messages) > limit, messages[:limit]
    next_cursor = str(messages[-1].seq) if more else None
    return Page(messages, next_cursor)
