"""Commands: imperative, one handler each."""

from __future__ import annotations

from dataclasses import dataclass

from chat_service.domain.message import MessageKind
from chat_service.domain.offer import OfferAction, OfferTerms


@dataclass(frozen=True)
class SendMessage:
    """To an existing conversation (`conversation_id`) or to a user (`recipient_id`, created on first use)."""

    sender_id: str
    kind: MessageKind
    text: str = ""
    conversation_id: str | None = None
    recipient_id: str | None = None
    file_key: str | None = None
    offer: OfferTerms | None = None


@dataclass(frozen=True)
class RespondToOffer:
    offer_id: str
    user_id: str
    action: OfferAction


@dataclass(frozen=True)
class MarkRead:
    user_id: str
    conversation_id: str
    up_to_seq: int | None = None


@dataclass(frozen=True)
class MarkAllRead:
    user_id: str
