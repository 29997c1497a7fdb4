"""Request and response bodies of the chat routes (snake_case JSON; text is returned verbatim as data)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field
from servicekit.public_api import JsonCounter, JsonInteger

from chat_service.domain.message import TEXT_MAX_LENGTH, Message, MessageKind
from chat_service.domain.offer import (
    DELIVERY_DAYS_MAX,
    DESCRIPTION_MAX_LENGTH,
    PRICE_MAX_MINOR,
    Offer,
    OfferAction,
    OfferStatus,
    OfferTerms,
)
from chat_service.service_layer.messaging import ReadOutcome
from chat_service.service_layer.reads import ConversationView

ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"


class OfferIn(BaseModel):
    gig_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX_LENGTH)
    price: JsonInteger = Field(ge=1, le=PRICE_MAX_MINOR, description="Integer minor units (cents)")
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    delivery_days: JsonInteger = Field(ge=1, le=DELIVERY_DAYS_MAX)
    expires_at: AwareDatetime = Field(description="At most 30 days ahead")

    def terms(self) -> OfferTerms:
        return OfferTerms(
            gig_id=self.gig_id,
            description=self.description,
            price=self.price,
            currency=self.currency,
            delivery_days=self.delivery_days,
            expires_at=self.expires_at,
        )


class SendIn(BaseModel):
    conversation_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    recipient_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    kind: MessageKind = "text"
    text: str = Field(default="", max_length=TEXT_MAX_LENGTH)
    file_key: str | None = Field(default=None, max_length=300)
    offer: OfferIn | None = None


class RespondIn(BaseModel):
    action: OfferAction = Field(description="accept or decline (buyer), withdraw (seller)")


class MarkReadIn(BaseModel):
    up_to_seq: JsonCounter | None = Field(
        default=None, description="Mark messages up to this number; all if absent"
    )


class OfferOut(BaseModel):
    id: str
    conversation_id: str
    message_id: str
    gig_id: str
    seller_id: str
    buyer_id: str
    description: str
    price: int
    currency: str
    delivery_days: int
    expires_at: datetime
    status: OfferStatus
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, offer: Offer, now: datetime) -> OfferOut:
        return cls(
            id=offer.id,
            conversation_id=offer.conversation_id,
            message_id=offer.message_id,
            gig_id=offer.gig_id,
            seller_id=offer.seller_id,
            buyer_id=offer.buyer_id,
            description=offer.description,
            price=offer.price,
            currency=offer.currency,
            delivery_days=offer.delivery_days,
            expires_at=offer.expires_at,
            status=offer.status_at(now),
            version=offer.version,
            updated_at=offer.updated_at,
        )


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    seq: int
    sender_id: str
    recipient_id: str
    kind: MessageKind
    text: str
    file_key: str | None
    offer: OfferOut | None
    read_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, message: Message, now: datetime) -> MessageOut:
        return cls(
            id=message.id,
            conversation_id=message.conversation_id,
            seq=message.seq,
            sender_id=message.sender_id,
            recipient_id=message.recipient_id,
            kind=message.kind,
            text=message.text,
            file_key=message.file_key,
            offer=None if message.offer is None else OfferOut.of(message.offer, now),
            read_at=message.read_at,
            created_at=message.created_at,
        )


class UserOut(BaseModel):
    id: str
    username: str | None


class ConversationOut(BaseModel):
    id: str
    participants: list[str]
    other_user: UserOut
    started: bool = Field(description="False until the first message; the id is already the one it will have")
    last_message_at: datetime | None
    last_seq: int
    unread_count: int

    @classmethod
    def of(cls, view: ConversationView) -> ConversationOut:
        conversation = view.conversation
        return cls(
            id=conversation.id,
            participants=list(conversation.participants),
            other_user=UserOut(
                id=view.other_user_id, username=view.other_user.username if view.other_user else None
            ),
            started=view.started,
            last_message_at=conversation.last_message_at,
            last_seq=conversation.last_seq,
            unread_count=view.unread_count,
        )


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class ReadOut(BaseModel):
    marked: int
    remaining: int

    @classmethod
    def of(cls, outcome: ReadOutcome) -> ReadOut:
        return cls(marked=outcome.marked, remaining=outcome.remaining)


Direction = Literal["before", "after"]
