"""Translation between the chat aggregates and their MongoDB documents.

Datetimes are stored as BSON dates (milliseconds, UTC); the store hands them back naive, so they are made
aware again here, and the domain only ever sees aware UTC datetimes truncated to milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from chat_service.domain.conversation import Conversation
from chat_service.domain.message import Message
from chat_service.domain.offer import Offer

Document = dict[str, Any]


def aware(moment: Any) -> datetime | None:
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def required_aware(moment: Any) -> datetime:
    value = aware(moment)
    if value is None:
        raise TypeError("a required datetime is missing")
    return value


def conversation_document(conversation: Conversation) -> Document:
    return {
        "participants": list(conversation.participants),
        "created_at": conversation.created_at,
        "last_message_at": conversation.last_message_at,
        "last_seq": conversation.last_seq,
    }


def conversation_of(document: Mapping[str, Any]) -> Conversation:
    first, second = document["participants"]
    return Conversation(
        id=document["_id"],
        participants=(first, second),
        created_at=required_aware(document["created_at"]),
        last_message_at=aware(document.get("last_message_at")),
        last_seq=int(document.get("last_seq", 0)),
    )


def offer_document(offer: Offer) -> Document:
    return {
        "id": offer.id,
        "conversation_id": offer.conversation_id,
        "message_id": offer.message_id,
        "gig_id": offer.gig_id,
        "seller_id": offer.seller_id,
        "buyer_id": offer.buyer_id,
        "description": offer.description,
        "price": offer.price,
        "currency": offer.currency,
        "delivery_days": offer.delivery_days,
        "expires_at": offer.expires_at,
        "status": offer.status,
        "version": offer.version,
        "updated_at": offer.updated_at,
    }


def offer_of(document: Mapping[str, Any]) -> Offer:
    return Offer(
        id=document["id"],
        conversation_id=document["conversation_id"],
        message_id=document["message_id"],
        gig_id=document["gig_id"],
        seller_id=document["seller_id"],
        buyer_id=document["buyer_id"],
        description=document["description"],
        price=int(document["price"]),
        currency=document["currency"],
        delivery_days=int(document["delivery_days"]),
        expires_at=required_aware(document["expires_at"]),
        status=document["status"],
        version=int(document["version"]),
        updated_at=required_aware(document["updated_at"]),
    )


def message_document(message: Message) -> Document:
    return {
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender_id": message.sender_id,
        "recipient_id": message.recipient_id,
        "kind": message.kind,
        "text": message.text,
        "file_key": message.file_key,
        "offer": None if message.offer is None else offer_document(message.offer),
        "read_at": message.read_at,
        "created_at": message.created_at,
    }


def message_of(document: Mapping[str, Any]) -> Message:
    offer = document.get("offer")
    return Message(
        id=document["_id"],
        conversation_id=document["conversation_id"],
        seq=int(document["seq"]),
        sender_id=document["sender_id"],
        recipient_id=document["recipient_id"],
        kind=document["kind"],
        text=document.get("text", ""),
        file_key=document.get("file_key"),
        offer=None if offer is None else offer_of(offer),
        read_at=aware(document.get("read_at")),
        created_at=required_aware(document["created_at"]),
    )
