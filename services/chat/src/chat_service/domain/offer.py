"""Custom offers: a seller's terms inside a message, and the one-way state machine the two parties drive.

pending -> accepted | declined (buyer), pending -> withdrawn (seller), pending -> expired (time). Every
transition leaves `pending`, so each can happen once; the repository's versioned write makes the check and
the change one atomic step, so of two concurrent accepts exactly one succeeds. The accepted offer's terms are
what the order service trusts for an order (docs/contracts.md), so they are fixed server-side here and never
taken from a later request.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from chat_service.domain.errors import InvalidMessage, NotOfferParty, OfferNotPending

OfferStatus = Literal["pending", "accepted", "declined", "withdrawn", "expired"]
OfferAction = Literal["accept", "decline", "withdraw"]

DESCRIPTION_MAX_LENGTH = 2000
PRICE_MAX_MINOR = 100_000_000  # 1,000,000.00 in a two-decimal currency
DELIVERY_DAYS_MAX = 365
LONGEST_VALIDITY = timedelta(days=30)
_CURRENCY = re.compile(r"^[A-Z]{3}$")

_OUTCOME: dict[OfferAction, OfferStatus] = {
    "accept": "accepted",
    "decline": "declined",
    "withdraw": "withdrawn",
}


@dataclass(frozen=True)
class OfferTerms:
    gig_id: str
    description: str
    price: int
    currency: str
    delivery_days: int
    expires_at: datetime

    def check(self, now: datetime) -> None:
        if not self.gig_id.strip() or len(self.gig_id) > 64:
            raise InvalidMessage("offer.gig_id must be 1 to 64 characters")
        if not self.description.strip() or len(self.description) > DESCRIPTION_MAX_LENGTH:
            raise InvalidMessage(f"offer.description must be 1 to {DESCRIPTION_MAX_LENGTH} characters")
        if not 1 <= self.price <= PRICE_MAX_MINOR:
            raise InvalidMessage(f"offer.price must be 1 to {PRICE_MAX_MINOR} minor units")
        if _CURRENCY.match(self.currency) is None:
            raise InvalidMessage("offer.currency must be three capital letters (ISO 4217)")
        if not 1 <= self.delivery_days <= DELIVERY_DAYS_MAX:
            raise InvalidMessage(f"offer.delivery_days must be 1 to {DELIVERY_DAYS_MAX}")
        if self.expires_at.tzinfo is None:
            raise InvalidMessage("offer.expires_at needs a time zone")
        if not now < self.expires_at <= now + LONGEST_VALIDITY:
            raise InvalidMessage("offer.expires_at must be in the future and at most 30 days ahead")


@dataclass
class Offer:
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
    def propose(
        cls,
        terms: OfferTerms,
        *,
        message_id: str,
        conversation_id: str,
        seller_id: str,
        buyer_id: str,
        now: datetime,
    ) -> Offer:
        return cls(
            id=str(uuid.uuid4()),
            conversation_id=conversation_id,
            message_id=message_id,
            gig_id=terms.gig_id,
            seller_id=seller_id,
            buyer_id=buyer_id,
            description=terms.description,
            price=terms.price,
            currency=terms.currency,
            delivery_days=terms.delivery_days,
            expires_at=terms.expires_at,
            status="pending",
            version=1,
            updated_at=now,
        )

    def status_at(self, now: datetime) -> OfferStatus:
        """What a reader sees: a pending offer past its expiry reads as expired before anyone touched it."""
        if self.status == "pending" and now >= self.expires_at:
            return "expired"
        return self.status

    def expire_if_due(self, now: datetime) -> bool:
        """Record the expiry of a pending offer past `expires_at`; True when this call changed it."""
        if self.status != "pending" or now < self.expires_at:
            return False
        self._move_to("expired", now)
        return True

    def respond(self, actor_id: str, action: OfferAction, now: datetime) -> None:
        """Apply a party's response; the caller has already called `expire_if_due`."""
        allowed = self.seller_id if action == "withdraw" else self.buyer_id
        if actor_id != allowed:
            role = "seller" if action == "withdraw" else "buyer"
            raise NotOfferParty(f"Only the offer's {role} may {action} it")
        if self.status != "pending":
            raise OfferNotPending(f"The offer is already {self.status}")
        self._move_to(_OUTCOME[action], now)

    def _move_to(self, status: OfferStatus, now: datetime) -> None:
        self.status = status
        self.version += 1
        self.updated_at = now
