"""Messages: text, a chat file (media key) or a custom offer. Text is data: stored and returned verbatim.

Nothing here renders or sanitises text; clients must treat it as plain text (the API serves JSON only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from chat_service.domain.errors import InvalidMessage
from chat_service.domain.media import check_chat_file_key
from chat_service.domain.offer import Offer, OfferTerms

MessageKind = Literal["text", "file", "offer"]
TEXT_MAX_LENGTH = 5000


@dataclass(frozen=True)
class MessageContent:
    """What a sender asks to post, checked against the sender before anything is stored."""

    kind: MessageKind
    text: str = ""
    file_key: str | None = None
    offer: OfferTerms | None = None

    @classmethod
    def of(
        cls,
        *,
        sender_id: str,
        kind: MessageKind,
        text: str,
        file_key: str | None,
        offer: OfferTerms | None,
        now: datetime,
    ) -> MessageContent:
        if len(text) > TEXT_MAX_LENGTH:
            raise InvalidMessage(f"text must be at most {TEXT_MAX_LENGTH} characters")
        if kind == "text":
            if not text.strip():
                raise InvalidMessage("A text message needs some text")
            if file_key is not None or offer is not None:
                raise InvalidMessage("A text message carries neither file_key nor offer")
            return cls(kind=kind, text=text)
        if kind == "file":
            if file_key is None or offer is not None:
                raise InvalidMessage("A file message carries a file_key and no offer")
            return cls(kind=kind, text=text, file_key=check_chat_file_key(file_key, sender_id))
        if offer is None or file_key is not None:
            raise InvalidMessage("An offer message carries offer terms and no file_key")
        offer.check(now)
        return cls(kind=kind, text=text, offer=offer)


@dataclass
class Message:
    id: str
    conversation_id: str
    seq: int
    sender_id: str
    recipient_id: str
    kind: MessageKind
    text: str
    file_key: str | None
    offer: Offer | None
    read_at: datetime | None
    created_at: datetime

    @classmethod
    def create(
        cls,
        *,
        id: str,
        conversation_id: str,
        seq: int,
        sender_id: str,
        recipient_id: str,
        content: MessageContent,
        now: datetime,
    ) -> Message:
        offer = None
        if content.offer is not None:
            # The sender of an offer is its seller; the recipient is the buyer who may accept it.
            offer = Offer.propose(
                content.offer,
                message_id=id,
                conversation_id=conversation_id,
                seller_id=sender_id,
                buyer_id=recipient_id,
                now=now,
            )
        return cls(
            id=id,
            conversation_id=conversation_id,
            seq=seq,
            sender_id=sender_id,
            recipient_id=recipient_id,
            kind=content.kind,
            text=content.text,
            file_key=content.file_key,
            offer=offer,
            read_at=None,
            created_at=now,
        )

    @property
    def participants(self) -> list[str]:
        return sorted((self.sender_id, self.recipient_id))

    def mark_read(self, reader_id: str, now: datetime) -> bool:
        """Only the recipient reads a message; True when this call changed it (receipts are set once)."""
        if reader_id != self.recipient_id or self.read_at is not None:
            return False
        self.read_at = now
        return True
