"""Integration events chat publishes; it owns their payloads, whose shape is agreed in docs/contracts.md
("Marketplace events and media keys"): producers may add fields, never drop or rename these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chat_service.domain.message import Message
from chat_service.domain.offer import Offer

MESSAGE_CREATED = "chat.message.created.v1"
MESSAGE_UPDATED = "chat.message.updated.v1"
OFFER_UPDATED = "chat.offer.updated.v1"
EMAIL_OFFER_RECEIVED = "chat.email.offer_received.v1"
EMAIL_UNREAD_MESSAGES = "chat.email.unread_messages.v1"
ACCOUNT_CREATED = "auth.account.created.v1"


@dataclass(frozen=True)
class OutgoingEvent:
    """An event to stage in the outbox of the document whose write raises it."""

    type: str
    payload: dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def offer_state(offer: Offer) -> dict[str, Any]:
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
        "expires_at": iso(offer.expires_at),
        "status": offer.status,
        "version": offer.version,
        "updated_at": iso(offer.updated_at),
    }


def message_state(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender_id": message.sender_id,
        "recipient_id": message.recipient_id,
        "kind": message.kind,
        "text": message.text,
        "file_key": message.file_key,
        "offer": None if message.offer is None else offer_state(message.offer),
        "read_at": iso(message.read_at),
        "created_at": iso(message.created_at),
    }


def message_payload(message: Message) -> dict[str, Any]:
    """`chat.message.created.v1` / `chat.message.updated.v1`."""
    return {"message": message_state(message), "participants": message.participants}


def offer_payload(offer: Offer) -> dict[str, Any]:
    """`chat.offer.updated.v1`; with status `accepted` it carries the terms the order service trusts."""
    return {"offer": offer_state(offer), "participants": sorted((offer.seller_id, offer.buyer_id))}


def message_created(message: Message) -> OutgoingEvent:
    return OutgoingEvent(MESSAGE_CREATED, message_payload(message))


def message_updated(message: Message) -> OutgoingEvent:
    return OutgoingEvent(MESSAGE_UPDATED, message_payload(message))


def offer_updated(offer: Offer) -> OutgoingEvent:
    return OutgoingEvent(OFFER_UPDATED, offer_payload(offer))
