"""Email events chat asks the notification service to send (`chat.email.<template>.v1`, docs/contracts.md).

The payload carries the recipient address (`to`), the `template` and the template's fields; the address
comes from the directory replica, never from a request.
"""

from __future__ import annotations

from chat_service.domain.directory import DirectoryEntry
from chat_service.domain.events import EMAIL_OFFER_RECEIVED, EMAIL_UNREAD_MESSAGES, OutgoingEvent, iso
from chat_service.domain.offer import Offer


def price_display(minor: int, currency: str) -> str:
    return f"{minor // 100}.{minor % 100:02d} {currency}"


def offer_received_email(offer: Offer, *, buyer: DirectoryEntry, seller: DirectoryEntry) -> OutgoingEvent:
    return OutgoingEvent(
        EMAIL_OFFER_RECEIVED,
        {
            "to": buyer.email,
            "template": "offer_received",
            "username": buyer.username,
            "seller_username": seller.username,
            "conversation_id": offer.conversation_id,
            "offer_id": offer.id,
            "gig_id": offer.gig_id,
            "description": offer.description,
            "price": offer.price,
            "currency": offer.currency,
            "price_display": price_display(offer.price, offer.currency),
            "delivery_days": offer.delivery_days,
            "expires_at": iso(offer.expires_at),
        },
    )


def unread_messages_email(
    conversation_id: str, *, recipient: DirectoryEntry, sender: DirectoryEntry | None, unread_count: int
) -> OutgoingEvent:
    return OutgoingEvent(
        EMAIL_UNREAD_MESSAGES,
        {
            "to": recipient.email,
            "template": "unread_messages",
            "username": recipient.username,
            "sender_username": sender.username if sender is not None else "someone",
            "conversation_id": conversation_id,
            "unread_count": unread_count,
        },
    )
