"""Writes: send a message, respond to an offer, read receipts.

Each write is one versioned document update (servicekit.mongo). A writer that loses a race
(`ConcurrentUpdateError`) reloads and runs the command again, a few times, so concurrent senders in one
conversation each get the next number; the re-run sees the winner's state, which is what makes a second
accept of an offer fail with `OfferNotPending` instead of succeeding twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from servicekit.mongo import ConcurrentUpdateError

from chat_service.domain.conversation import Conversation, conversation_id_for
from chat_service.domain.errors import (
    ConversationNotFound,
    InvalidMessage,
    OfferNotFound,
    OfferNotPending,
    UserNotFound,
)
from chat_service.domain.events import OutgoingEvent, message_created, message_updated, offer_updated
from chat_service.domain.message import Message, MessageContent
from chat_service.domain.offer import Offer
from chat_service.service_layer.commands import MarkAllRead, MarkRead, RespondToOffer, SendMessage
from chat_service.service_layer.dependencies import HandlerDeps
from chat_service.service_layer.emails import offer_received_email

logger = logging.getLogger(__name__)

ATTEMPTS = 8
MARK_READ_LIMIT = 1000  # per call; the answer says how many are still unread
Result = TypeVar("Result")


async def retrying(operation: Callable[[], Awaitable[Result]]) -> Result:
    """Run `operation` again after losing a concurrent write; the last loss goes to the caller (409)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await operation()
        except ConcurrentUpdateError:
            if attempt == ATTEMPTS:
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * attempt))
    raise AssertionError("unreachable")


async def send_message(command: SendMessage, deps: HandlerDeps) -> Message:
    if (command.conversation_id is None) == (command.recipient_id is None):
        raise InvalidMessage("Name exactly one of conversation_id and recipient_id")
    content = MessageContent.of(
        sender_id=command.sender_id,
        kind=command.kind,
        text=command.text,
        file_key=command.file_key,
        offer=command.offer,
        now=deps.clock(),
    )
    if content.file_key is not None:
        # The domain checked the key's shape and owner; the store says whether the upload really happened.
        await deps.media.ensure_usable(content.file_key, command.sender_id)
    if command.recipient_id is not None:
        if command.recipient_id == command.sender_id:
            raise InvalidMessage("You cannot start a conversation with yourself")
        conversation_id = conversation_id_for(command.sender_id, command.recipient_id)
    else:
        conversation_id = str(command.conversation_id)

    async def attempt() -> Message:
        now = deps.clock()
        async with deps.new_uow() as uow:
            conversation = await uow.conversations.get(conversation_id)
            is_new = conversation is None
            if conversation is None:
                if command.recipient_id is None:
                    raise ConversationNotFound()
                # Only a first message asks the directory: an existing conversation already proves the
                # recipient exists, and the lookup was one store round trip per send (bench/realtime).
                if await deps.directory.get(command.recipient_id) is None:
                    raise UserNotFound()
                conversation = Conversation.between(command.sender_id, command.recipient_id, now)
            message = conversation.post(command.sender_id, content, message_id=str(uuid.uuid4()), now=now)
            events = [message_created(message)]
            if message.offer is not None:
                events += await _offer_emails(message.offer, deps)
            # The conversation first: its versioned write decides the message's number. A crash between the
            # two writes leaves a gap in the numbers, never two messages with one number.
            if is_new:
                uow.conversations.add(conversation)
            else:
                uow.conversations.save(conversation)
            uow.messages.create(message, events)
            await uow.commit()
            return message

    return await retrying(attempt)


async def _offer_emails(offer: Offer, deps: HandlerDeps) -> list[OutgoingEvent]:
    people = await deps.directory.many([offer.buyer_id, offer.seller_id])
    buyer, seller = people.get(offer.buyer_id), people.get(offer.seller_id)
    if buyer is None or seller is None:
        logger.warning("offer %s: no directory entry for a party; no email", offer.id)
        return []
    return [offer_received_email(offer, buyer=buyer, seller=seller)]


async def respond_to_offer(command: RespondToOffer, deps: HandlerDeps) -> Offer:
    async def attempt() -> Offer:
        now = deps.clock()
        async with deps.new_uow() as uow:
            message = await uow.messages.by_offer(command.offer_id)
            if message is None or message.offer is None or command.user_id not in message.participants:
                raise OfferNotFound()
            offer = message.offer
            if offer.expire_if_due(now):
                # Recorded (and announced) by whoever first finds it expired, then refused like any other
                # response to an offer that is no longer pending.
                uow.messages.update(message, [offer_updated(offer), message_updated(message)])
                await uow.commit()
                raise OfferNotPending("The offer has expired")
            offer.respond(command.user_id, command.action, now)
            uow.messages.update(message, [offer_updated(offer), message_updated(message)])
            await uow.commit()
            return offer

    return await retrying(attempt)


@dataclass(frozen=True)
class ReadOutcome:
    marked: int
    remaining: int


async def mark_read(command: MarkRead, deps: HandlerDeps) -> ReadOutcome:
    async with deps.new_uow() as uow:
        conversation = await uow.conversations.get(command.conversation_id)
        if conversation is None or not conversation.is_participant(command.user_id):
            raise ConversationNotFound()
        ids = await uow.messages.unread_ids(
            command.user_id,
            conversation_id=conversation.id,
            up_to=command.up_to_seq,
            limit=MARK_READ_LIMIT,
        )
    marked = await _mark_each(ids, command.user_id, deps)
    async with deps.new_uow() as uow:
        remaining = await uow.messages.unread_count(conversation.id, command.user_id)
    return ReadOutcome(marked=marked, remaining=remaining)


async def mark_all_read(command: MarkAllRead, deps: HandlerDeps) -> ReadOutcome:
    async with deps.new_uow() as uow:
        ids = await uow.messages.unread_ids(
            command.user_id, conversation_id=None, up_to=None, limit=MARK_READ_LIMIT + 1
        )
    marked = await _mark_each(ids[:MARK_READ_LIMIT], command.user_id, deps)
    return ReadOutcome(marked=marked, remaining=max(0, len(ids) - MARK_READ_LIMIT))


async def _mark_each(message_ids: list[str], reader_id: str, deps: HandlerDeps) -> int:
    """Each receipt is its own versioned write with its `chat.message.updated.v1`: set and announced once."""
    marked = 0
    for message_id in message_ids:

        async def attempt(message_id: str = message_id) -> bool:
            async with deps.new_uow() as uow:
                message = await uow.messages.get(message_id)
                if message is None or not message.mark_read(reader_id, deps.clock()):
                    return False
                uow.messages.update(message, [message_updated(message)])
                await uow.commit()
                return True

        if await retrying(attempt):
            marked += 1
    return marked
