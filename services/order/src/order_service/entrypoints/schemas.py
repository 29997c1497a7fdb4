"""Request and response bodies of the public order and payment operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StringConstraints, model_validator
from servicekit.public_api import JsonCounter, JsonInteger

from order_service.domain.model import MAX_DELIVERY_FILES, MAX_EXTENSION_DAYS, MAX_TEXT_LENGTH, Order
from order_service.service_layer.ports import PaymentIntent, StoredNotification

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH)]
Version = Annotated[
    JsonCounter | None, Field(default=None, description="The version the client read (409 if stale)")
]


class CreateOrderIn(BaseModel):
    gig_id: Identifier | None = None
    offer_id: Identifier | None = None

    @model_validator(mode="after")
    def _exactly_one_source(self) -> CreateOrderIn:
        if (self.gig_id is None) == (self.offer_id is None):
            raise ValueError("give exactly one of gig_id and offer_id")
        return self


class CancelIn(BaseModel):
    reason: Text = ""
    version: Version = None


class ExtensionIn(BaseModel):
    days: JsonInteger = Field(ge=1, le=MAX_EXTENSION_DAYS)
    reason: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_LENGTH)]
    version: Version = None


class DecisionIn(BaseModel):
    # Strict: the schema says boolean, and pydantic's lax mode would take 0, 1, "yes" or "off" for one.
    approve: StrictBool
    version: Version = None


class DeliveryIn(BaseModel):
    message: Text = ""
    file_keys: list[Annotated[str, StringConstraints(max_length=300)]] = Field(
        default_factory=list, max_length=MAX_DELIVERY_FILES
    )
    version: Version = None


class ApproveIn(BaseModel):
    version: Version = None


class DevConfirmIn(BaseModel):
    order_id: Identifier


class ExtensionOut(BaseModel):
    days: int
    reason: str
    status: str
    requested_at: datetime
    decided_at: datetime | None


class DeliveryOut(BaseModel):
    message: str
    file_keys: list[str]
    delivered_at: datetime


class OrderOut(BaseModel):
    id: str
    gig_id: str
    offer_id: str | None
    buyer_id: str
    seller_id: str
    status: str
    price: int = Field(description="minor units")
    service_fee: int
    total: int = Field(description="what the buyer pays: price + service_fee")
    seller_earnings: int
    currency: str
    delivery_days: int
    due_at: datetime | None
    expires_at: datetime
    paid_amount: int
    refunded_amount: int
    version: int
    created_at: datetime
    updated_at: datetime | None
    extension: ExtensionOut | None
    delivery: DeliveryOut | None
    buyer_review_id: str | None
    seller_review_id: str | None

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        extension = order.extension
        delivery = order.delivery
        return cls(
            id=order.id,
            gig_id=order.gig_id,
            offer_id=order.offer_id,
            buyer_id=order.buyer_id,
            seller_id=order.seller_id,
            status=order.status.value,
            price=order.price,
            service_fee=order.service_fee,
            total=order.total,
            seller_earnings=order.seller_earnings,
            currency=order.currency,
            delivery_days=order.delivery_days,
            due_at=order.due_at,
            expires_at=order.expires_at,
            paid_amount=order.paid_amount,
            refunded_amount=order.refunded_amount,
            version=order.version,
            created_at=order.created_at,
            updated_at=order.updated_at,
            extension=None
            if extension is None
            else ExtensionOut(
                days=extension.days,
                reason=extension.reason,
                status=extension.status.value,
                requested_at=extension.requested_at,
                decided_at=extension.decided_at,
            ),
            delivery=None
            if delivery is None
            else DeliveryOut(
                message=delivery.message, file_keys=delivery.file_keys, delivered_at=delivery.delivered_at
            ),
            buyer_review_id=order.buyer_review_id,
            seller_review_id=order.seller_review_id,
        )


class PaymentOut(BaseModel):
    provider: str
    intent_id: str
    client_secret: str | None = Field(description="for the provider's client library to confirm the payment")
    amount: int
    currency: str


class CreatedOrderOut(BaseModel):
    order: OrderOut
    payment: PaymentOut

    @classmethod
    def of(cls, order: Order, intent: PaymentIntent, provider: str) -> CreatedOrderOut:
        return cls(
            order=OrderOut.of(order),
            payment=PaymentOut(
                provider=provider,
                intent_id=intent.id,
                client_secret=intent.client_secret,
                amount=intent.amount,
                currency=intent.currency,
            ),
        )


class OrderPageOut(BaseModel):
    orders: list[OrderOut]
    next_before: str | None = Field(description="pass as `before` for the next page; null on the last")


class NotificationOut(BaseModel):
    id: str
    order_id: str
    kind: str
    text: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notification: StoredNotification) -> NotificationOut:
        return cls(
            id=notification.id,
            order_id=notification.order_id,
            kind=notification.kind,
            text=notification.text,
            created_at=notification.created_at,
            read_at=notification.read_at,
        )


class NotificationsOut(BaseModel):
    notifications: list[NotificationOut]
    next_before: str | None = Field(description="pass as `before` for the next page; null on the last")


class WebhookOut(BaseModel):
    received: bool = True
    outcome: str


class DevConfirmOut(BaseModel):
    outcome: str
    order: OrderOut
