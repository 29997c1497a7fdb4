"""The order aggregate and its state machine: who may move an order from which state to which.

    awaiting_payment --paid--> in_progress --deliver--> delivered --approve--> completed
    awaiting_payment --expire--> expired            (system, once the payment deadline passed)
    in_progress | delivered --cancel--> cancelled   (refund of everything paid)
    in_progress: extension requested (seller) -> approved | rejected (buyer)

Cancellation rules (documented in the service README): the seller may cancel while the order is in progress
or delivered (they give up the work); the buyer may cancel an in-progress order only once its due date has
passed (the seller is late) and no extension request is pending. An unpaid order is not cancelled: it expires.

Every method checks the actor's role and the current state, changes the aggregate and returns a
`Transition`; handlers turn it into history, events, notifications and emails. Nothing here does I/O.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from order_service.domain.errors import (
    InvalidOrderRequest,
    NotAllowedForRole,
    OrderNotFound,
    TransitionNotAllowed,
)
from order_service.domain.money import PriceBreakdown

Role = Literal["buyer", "seller", "system"]

MAX_EXTENSION_DAYS = 30
MAX_DELIVERY_FILES = 10
MAX_TEXT_LENGTH = 2_000
# docs/contracts.md, media keys: deliveries/<owner user id>/<object name>.
_OBJECT_NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


TERMINAL = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXPIRED})
# Which states hold the buyer's money on the platform (paid, not yet completed or refunded).
PAID_OPEN = frozenset({OrderStatus.IN_PROGRESS, OrderStatus.DELIVERED})


class ExtensionStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass
class Extension:
    days: int
    reason: str
    status: ExtensionStatus
    requested_at: datetime
    decided_at: datetime | None = None


@dataclass
class Delivery:
    message: str
    file_keys: list[str]
    delivered_at: datetime


@dataclass(frozen=True)
class Transition:
    """One accepted change: what happened, who did it, from which state to which, and money moved."""

    action: str
    actor: Role
    actor_id: str | None
    from_status: OrderStatus
    to_status: OrderStatus
    refund_due: int = 0
    details: dict[str, object] = field(default_factory=dict)


@dataclass
class Order:
    gig_id: str
    offer_id: str | None
    buyer_id: str
    seller_id: str
    price: int
    service_fee: int
    seller_earnings: int
    currency: str
    delivery_days: int
    created_at: datetime
    expires_at: datetime
    status: OrderStatus = OrderStatus.AWAITING_PAYMENT
    due_at: datetime | None = None
    version: int = 1
    updated_at: datetime | None = None
    payment_intent_id: str | None = None
    paid_amount: int = 0
    refunded_amount: int = 0
    extension: Extension | None = None
    delivery: Delivery | None = None
    buyer_review_id: str | None = None
    seller_review_id: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def place(
        cls,
        *,
        gig_id: str,
        offer_id: str | None,
        buyer_id: str,
        seller_id: str,
        prices: PriceBreakdown,
        currency: str,
        delivery_days: int,
        now: datetime,
        payment_window: timedelta,
    ) -> Order:
        if buyer_id == seller_id:
            raise InvalidOrderRequest("A seller cannot order their own gig")
        if not 1 <= delivery_days <= 365:
            raise InvalidOrderRequest("delivery_days must be 1 to 365")
        return cls(
            gig_id=gig_id,
            offer_id=offer_id,
            buyer_id=buyer_id,
            seller_id=seller_id,
            price=prices.price,
            service_fee=prices.service_fee,
            seller_earnings=prices.seller_earnings,
            currency=currency,
            delivery_days=delivery_days,
            created_at=now,
            updated_at=now,
            expires_at=now + payment_window,
        )

    @property
    def total(self) -> int:
        return self.price + self.service_fee

    def role_of(self, user_id: str) -> Role:
        """The caller's role; anyone else gets `OrderNotFound` (an order's existence is not revealed)."""
        if user_id == self.buyer_id:
            return "buyer"
        if user_id == self.seller_id:
            return "seller"
        raise OrderNotFound()

    def _require(self, allowed: frozenset[OrderStatus] | set[OrderStatus], what: str) -> None:
        if self.status not in allowed:
            raise TransitionNotAllowed(f"Cannot {what} an order that is {self.status.value}")

    @staticmethod
    def _require_role(role: Role, wanted: Role, what: str) -> None:
        if role != wanted:
            raise NotAllowedForRole(f"Only the {wanted} may {what}")

    def _move(
        self,
        to: OrderStatus,
        action: str,
        actor: Role,
        actor_id: str | None,
        now: datetime,
        *,
        refund_due: int = 0,
        details: dict[str, object] | None = None,
    ) -> Transition:
        transition = Transition(
            action=action,
            actor=actor,
            actor_id=actor_id,
            from_status=self.status,
            to_status=to,
            refund_due=refund_due,
            details=details or {},
        )
        self.status = to
        self.updated_at = now
        return transition

    # --- payment and expiry (system) -------------------------------------------------------------------

    def record_payment(self, intent_id: str, amount: int, currency: str, now: datetime) -> Transition | None:
        """A confirmed payment. None when it was already recorded (a duplicate webhook).

        If the order can no longer take it (expired or cancelled before the money arrived), the transition
        keeps the state and says how much must be refunded.
        """
        if self.payment_intent_id == intent_id and self.paid_amount > 0:
            return None
        if amount != self.total or currency.upper() != self.currency:
            raise InvalidOrderRequest(
                f"payment of {amount} {currency} does not match the order total {self.total} {self.currency}"
            )
        self.payment_intent_id = intent_id
        self.paid_amount += amount
        if self.status != OrderStatus.AWAITING_PAYMENT:
            self.refunded_amount += amount
            self.updated_at = now
            return Transition(
                action="late_payment_refunded",
                actor="system",
                actor_id=None,
                from_status=self.status,
                to_status=self.status,
                refund_due=amount,
            )
        self.due_at = now + timedelta(days=self.delivery_days)
        return self._move(OrderStatus.IN_PROGRESS, "paid", "system", None, now)

    def expire(self, now: datetime) -> Transition:
        self._require({OrderStatus.AWAITING_PAYMENT}, "expire")
        if now < self.expires_at:
            raise TransitionNotAllowed("The payment deadline has not passed yet")
        return self._move(OrderStatus.EXPIRED, "expired", "system", None, now)

    # --- parties -----------------------------------------------------------------------------------------

    def cancel(self, user_id: str, reason: str, now: datetime) -> Transition:
        role = self.role_of(user_id)
        self._require(PAID_OPEN, "cancel")
        if role == "buyer":
            if self.status != OrderStatus.IN_PROGRESS:
                raise NotAllowedForRole("The buyer cannot cancel a delivered order; approve it or wait")
            if self.due_at is None or now < self.due_at:
                raise TransitionNotAllowed("The buyer may cancel only once the due date has passed")
            if self.extension is not None and self.extension.status == ExtensionStatus.REQUESTED:
                raise TransitionNotAllowed("Decide the pending extension request first")
        text = _text(reason, "reason", required=False)  # checked before anything changes
        refund = self.paid_amount - self.refunded_amount
        self.refunded_amount += refund
        return self._move(
            OrderStatus.CANCELLED,
            "cancelled",
            role,
            user_id,
            now,
            refund_due=refund,
            details={"reason": text},
        )

    def request_extension(self, user_id: str, days: int, reason: str, now: datetime) -> Transition:
        role = self.role_of(user_id)
        self._require_role(role, "seller", "request an extension")
        self._require({OrderStatus.IN_PROGRESS}, "extend")
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise InvalidOrderRequest(f"days must be 1 to {MAX_EXTENSION_DAYS}")
        if self.extension is not None and self.extension.status == ExtensionStatus.REQUESTED:
            raise TransitionNotAllowed("An extension request is already pending")
        self.extension = Extension(
            days=days, reason=_text(reason, "reason"), status=ExtensionStatus.REQUESTED, requested_at=now
        )
        return self._move(
            self.status, "extension_requested", role, user_id, now, details={"days": days, "reason": reason}
        )

    def decide_extension(self, user_id: str, approve: bool, now: datetime) -> Transition:
        role = self.role_of(user_id)
        self._require_role(role, "buyer", "decide an extension")
        self._require({OrderStatus.IN_PROGRESS}, "decide an extension of")
        extension = self.extension
        if extension is None or extension.status != ExtensionStatus.REQUESTED:
            raise TransitionNotAllowed("No extension request is pending")
        extension.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
        extension.decided_at = now
        if approve and self.due_at is not None:
            self.due_at = self.due_at + timedelta(days=extension.days)
        return self._move(
            self.status,
            "extension_decided",
            role,
            user_id,
            now,
            details={"approved": approve, "days": extension.days},
        )

    def deliver(self, user_id: str, message: str, file_keys: list[str], now: datetime) -> Transition:
        role = self.role_of(user_id)
        self._require_role(role, "seller", "deliver")
        self._require({OrderStatus.IN_PROGRESS}, "deliver")
        if len(file_keys) > MAX_DELIVERY_FILES:
            raise InvalidOrderRequest(f"At most {MAX_DELIVERY_FILES} files per delivery")
        for key in file_keys:
            check_delivery_key(key, self.seller_id)
        text = _text(message, "message", required=not file_keys)
        self.delivery = Delivery(message=text, file_keys=list(file_keys), delivered_at=now)
        # A pending extension request has no object once the work is delivered.
        if self.extension is not None and self.extension.status == ExtensionStatus.REQUESTED:
            self.extension.status = ExtensionStatus.REJECTED
            self.extension.decided_at = now
        return self._move(
            OrderStatus.DELIVERED, "delivered", role, user_id, now, details={"files": len(file_keys)}
        )

    def approve(self, user_id: str, now: datetime) -> Transition:
        role = self.role_of(user_id)
        self._require_role(role, "buyer", "approve a delivery")
        self._require({OrderStatus.DELIVERED}, "approve")
        return self._move(OrderStatus.COMPLETED, "completed", role, user_id, now)


def check_delivery_key(key: str, seller_id: str) -> None:
    """docs/contracts.md: `deliveries/<owner user id>/<object name>`, owned by the delivering seller."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "deliveries" or not _OBJECT_NAME.fullmatch(parts[2]):
        raise InvalidOrderRequest(f"{key!r} is not a delivery file key (deliveries/<your id>/<name>)")
    if parts[1] != seller_id:
        raise InvalidOrderRequest(f"{key!r} was not uploaded by the seller of this order")


def _text(value: str, name: str, *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidOrderRequest(f"{name} must not be blank")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidOrderRequest(f"{name} must be at most {MAX_TEXT_LENGTH} characters")
    return text
